import { readFile } from 'node:fs/promises';
import type { FailReply } from '@imsync/protocol';
import { createRedis } from '@imsync/queue';
import { type RedisService, waitFor } from '@imsync/testing';
import { expect } from 'vitest';
import { allJobs, callbackCount, callbackUrl, messageBody, OK_REPLY, type TestReceiver, test } from './support.js';

// Redis gone or hung: the receiver must answer 503 (never a 200 for a job Redis does not hold)
// within Tencent's 2 s, say so on the ops server's /readyz, and take callbacks again by itself once Redis is back.
// This file stops and freezes its Redis, so it has one of its own and runs the tests in order;
// each test brings Redis back (in `finally`, before its receiver is closed) for the next.

/** Tencent gives up after 2 s: an answer later than this is no answer (spec §3). */
const TENCENT_TIMEOUT_MS = 2000;

async function timedPost(receiver: TestReceiver, body: string) {
  const started = performance.now();
  const res = await receiver.app.request(callbackUrl(), { method: 'POST', body });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
}

function expectUnavailable(reply: { status: number; text: string }) {
  expect(reply.status).toBe(503);
  const body = JSON.parse(reply.text) as FailReply;
  expect(body).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 50301 });
  expect(body.ErrorInfo).not.toBe('');
}

async function readiness(receiver: TestReceiver) {
  const res = await receiver.ops.request('/readyz');
  return { status: res.status, body: (await res.json()) as { failing?: string[]; checks: Record<string, string> } };
}

/** `imsync_dependency_up{dependency="redis"}` as a scrape of the ops port reads it. */
async function redisUp(receiver: TestReceiver): Promise<number> {
  const text = await (await receiver.ops.request('/metrics')).text();
  return Number(/^imsync_dependency_up\{[^}]*dependency="redis"[^}]*\} (\d+)$/m.exec(text)?.[1]);
}

/** Posts `body` until it is acknowledged: the receiver must recover with no help. */
function untilAccepted(receiver: TestReceiver, body: string) {
  return waitFor(async () => (await timedPost(receiver, body)).text === OK_REPLY, {
    timeoutMs: 15_000,
    what: 'the receiver to accept callbacks again',
  });
}

test('Redis stopped: 503 within 2 s, /readyz names redis, and it recovers by itself', async ({ receiver, redis }) => {
  const before = messageBody({ MsgSeq: 1 });
  const during = messageBody({ MsgSeq: 2 });
  expect((await timedPost(receiver, before)).text).toBe(OK_REPLY);

  await redis.stop('graceful');
  try {
    const reply = await timedPost(receiver, during);
    expectUnavailable(reply);
    expect(reply.ms).toBeLessThan(TENCENT_TIMEOUT_MS);
    // A burst while Redis is down is refused just as fast, not queued behind a reconnect.
    const burst = await Promise.all([3, 4, 5, 6, 7].map((seq) => timedPost(receiver, messageBody({ MsgSeq: seq }))));
    for (const each of burst) {
      expectUnavailable(each);
      expect(each.ms).toBeLessThan(TENCENT_TIMEOUT_MS);
    }

    const ready = await readiness(receiver);
    expect(ready.status).toBe(503);
    // Alerts see it too: the readiness check runs again at each scrape.
    expect(await redisUp(receiver)).toBe(0);
    expect(ready.body.failing).toContain('redis');
    expect(ready.body.checks.redis).not.toBe('ok');
    // What Redis said stays on the ops port: the public one has no /readyz, and its 503s say
    // only that the queue is unavailable.
    const redisError = ready.body.checks.redis?.replace(/^error: /, '') ?? '';
    expect(redisError.length).toBeGreaterThan(5);
    const publicReady = await receiver.app.request('/readyz');
    expect({ status: publicReady.status, text: await publicReady.text() }).toMatchObject({ status: 404 });
    for (const each of [reply, ...burst]) {
      expect(each.text).not.toContain(redisError);
    }

    const line = receiver.logLines.find((each) => each.msg === 'callback' && each.status === 503);
    expect(line).toMatchObject({ level: 'error', outcome: 'unavailable', reason: 'queue_unavailable' });
    expect(await callbackCount(receiver.registry, 'unavailable', 'queue_unavailable')).toBe(6);
  } finally {
    await redis.start();
  }
  await untilAccepted(receiver, during);
  expect((await readiness(receiver)).status).toBe(200);
  expect(await redisUp(receiver)).toBe(1);
  // The job from before the outage survived the restart (AOF); the refused ones were never stored.
  const jobs = await allJobs(receiver.queue);
  expect(jobs.map((job) => job.data.body).sort()).toEqual([before, during].sort());
});

/** The pid of the local redis-server on `port`, or undefined when it runs elsewhere (a container). */
async function localRedisPid(service: RedisService): Promise<number | undefined> {
  const client = createRedis(service.url, { role: 'worker' });
  try {
    const info = await client.info('server');
    const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return cmdline.includes('redis-server') && cmdline.includes(`:${service.port}`) ? pid : undefined;
  } finally {
    client.disconnect();
  }
}

test('Redis hung (SIGSTOP): 503 after the enqueue timeout, never a hang, and no duplicate after', async ({
  receiver,
  redis,
  skip,
}) => {
  const pid = await localRedisPid(redis);
  if (pid === undefined) {
    skip('Redis runs in a container: its process cannot be stopped from here');
    return;
  }
  const hung = messageBody({ MsgSeq: 10 });

  process.kill(pid, 'SIGSTOP');
  try {
    const [reply, other, ready] = await Promise.all([
      timedPost(receiver, hung),
      timedPost(receiver, messageBody({ MsgSeq: 11 })),
      readiness(receiver),
    ]);
    for (const each of [reply, other]) {
      expectUnavailable(each);
      // It really waited on Redis (the 1 s enqueue timeout in support) and gave up in time.
      expect(each.ms).toBeGreaterThanOrEqual(900);
      expect(each.ms).toBeLessThan(TENCENT_TIMEOUT_MS);
    }
    expect(ready.status).toBe(503);
    expect(ready.body.failing).toContain('redis');
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await untilAccepted(receiver, hung);
  // Tencent's retry of a message whose add landed late must not make a second job.
  expect((await timedPost(receiver, hung)).text).toBe(OK_REPLY);
  const jobs = await allJobs(receiver.queue);
  expect(jobs.filter((job) => job.data.body === hung)).toHaveLength(1);
});
