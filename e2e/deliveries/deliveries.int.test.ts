import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCallbackFixtures } from '@imsync/fixtures';
import { deliveryQueueName } from '@imsync/queue';
import { repoRoot, startAppProcess, waitFor } from '@imsync/testing';
import { test as base } from '@imsync/testing/vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { SDK_APP_ID, signed, startReceiver } from '../stack.js';
import { startDestinationServer } from './destination-server.js';

// Events from real receiver and worker processes to two destinations: a webhook receiver that
// verifies every request with standardwebhooks, and the NDJSON-file example module.

const FIXTURES = loadCallbackFixtures();
const GROUP_MESSAGES = FIXTURES.filter((f) => f.command === 'Group.CallbackAfterSendMsg');
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Pipeline {
  destination: Awaited<ReturnType<typeof startDestinationServer>>;
  ndjson: string;
  post(text: string, command: string): Promise<number>;
  /** The key (job id, webhook-id) the receiver gave each posted body. */
  keys: Map<string, string>;
  hooksQueue: Queue;
  startWorker(env?: Record<string, string>): ReturnType<typeof startAppProcess>;
  workers: Awaited<ReturnType<typeof startAppProcess>>[];
}

const test = base.extend('pipeline', async ({ redis, databaseUrl }, { onCleanup }): Promise<Pipeline> => {
  const dir = await mkdtemp(join(tmpdir(), 'imsync-deliveries-'));
  const destination = await startDestinationServer(SECRET);
  const ndjson = join(dir, 'events.ndjson');
  const sinksFile = join(dir, 'sinks.json');
  await writeFile(
    sinksFile,
    JSON.stringify({
      destinations: [
        // Short waits, so retries show within a test; the default is Standard Webhooks' own.
        {
          name: 'hooks',
          type: 'http',
          url: destination.url,
          secret: SECRET,
          retrySchedule: '0,1s,1s,1s,1s,1s',
          timeoutMs: 500,
        },
        {
          name: 'file',
          type: 'module',
          module: join(repoRoot, 'packages/destinations/examples/ndjson-file.js'),
          options: { path: ndjson },
          commands: ['Group.CallbackAfterSendMsg'],
        },
      ],
    }),
  );
  const prefix = `dlv${process.pid}x${Date.now().toString(36)}`;
  const { receiver, callbackUrl } = await startReceiver({ REDIS_URL: redis.url, QUEUE_PREFIX: prefix });
  const workers: Awaited<ReturnType<typeof startAppProcess>>[] = [];
  const startWorker = async (env: Record<string, string> = {}) => {
    const worker = await startAppProcess('worker', {
      REDIS_URL: redis.url,
      DATABASE_URL: databaseUrl,
      TIM_SDK_APP_ID: SDK_APP_ID,
      QUEUE_PREFIX: prefix,
      METRICS_PORT: '0',
      IMSYNC_SINKS_FILE: sinksFile,
      ...env,
    });
    workers.push(worker);
    return worker;
  };
  await startWorker();
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const hooksQueue = new Queue(deliveryQueueName('hooks'), { connection, prefix });
  const keys = new Map<string, string>();
  onCleanup(async () => {
    await Promise.all([receiver.stop(), ...workers.map((w) => w.stop('SIGKILL'))]);
    await hooksQueue.close();
    connection.disconnect();
    await destination.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    destination,
    ndjson,
    keys,
    hooksQueue,
    workers,
    startWorker,
    async post(text, command) {
      const res = await fetch(signed(callbackUrl).replace('Group.CallbackAfterSendMsg', command), {
        method: 'POST',
        body: text,
      });
      const line = await receiver.waitForLine(
        (l) => l.msg === 'callback' && l.requestId === res.headers.get('x-request-id'),
      );
      keys.set(text, String(line.jobId));
      return res.status;
    },
  };
});

const ndjsonLines = async (path: string) =>
  (await readFile(path, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { id: string; body: string });

describe('deliveries', () => {
  test('every event reaches both destinations, signed, verbatim; one failing is retried alone', async ({
    pipeline,
  }) => {
    const { destination } = pipeline;
    // The webhook receiver fails its first three requests; the file destination never does.
    let seen = 0;
    destination.answer(() => (++seen <= 3 ? { status: 500 } : { status: 200 }));
    for (const fixture of FIXTURES) {
      expect(await pipeline.post(fixture.text, fixture.command)).toBe(200);
    }
    await waitFor(() => destination.ids().size === FIXTURES.length, {
      what: 'every event at the webhook',
      timeoutMs: 30_000,
    });
    await waitFor(async () => (await ndjsonLines(pipeline.ndjson)).length === GROUP_MESSAGES.length, {
      what: 'every group message in the file',
    });

    // Every request verified, and the webhook-id is the event key, the same on every retry.
    expect(destination.received.filter((r) => !r.verified)).toEqual([]);
    for (const fixture of FIXTURES) {
      const key = pipeline.keys.get(fixture.text);
      const deliveries = destination.received.filter((r) => r.id === key);
      expect(deliveries.length, fixture.name).toBeGreaterThan(0);
      for (const delivery of deliveries) {
        const envelope = JSON.parse(delivery.body) as { type: string; id: string; data: unknown; sdkAppId: string };
        expect(envelope).toMatchObject({ type: fixture.command, id: key, sdkAppId: SDK_APP_ID });
        expect(envelope.data).toEqual(JSON.parse(fixture.text));
        // Tencent's body as received, byte for byte, inside the envelope.
        expect(delivery.body).toContain(fixture.text.trim());
      }
    }
    // The file: its subscription only, each once, not held back by the failing webhook.
    const lines = await ndjsonLines(pipeline.ndjson);
    expect(lines.map((line) => line.id).sort()).toEqual(GROUP_MESSAGES.map((f) => pipeline.keys.get(f.text)).sort());
  });

  test('429 with Retry-After waits without spending an attempt; 410 pauses the destination until resumed', async ({
    pipeline,
  }) => {
    const { destination, hooksQueue } = pipeline;
    const [first, second, ...others] = GROUP_MESSAGES;
    const later = others.slice(0, 3);
    const throttled = pipeline.keys;
    destination.answer(({ attempt, id }) =>
      id === throttled.get(first?.text ?? '') && attempt === 1
        ? { status: 429, headers: { 'retry-after': '2' } }
        : id === throttled.get(second?.text ?? '')
          ? { status: 410 }
          : { status: 200 },
    );
    expect(await pipeline.post(first?.text ?? '', 'Group.CallbackAfterSendMsg')).toBe(200);
    const firstKey = pipeline.keys.get(first?.text ?? '') ?? '';
    // Once the throttled job is back in the queue, the whole destination waits out Retry-After:
    // neither it nor events that come meanwhile are delivered before (the worker has idle slots).
    // The worker says so just before it pauses the queue. (Polling the job's state for 'waiting'
    // missed that state once, on a loaded machine: the 2 s wait was over before a poll saw it.)
    const [worker] = pipeline.workers;
    expect(worker).toBeDefined();
    await worker?.waitForLine((line) => line.msg === 'delivery throttled' && line.key === firstKey);
    for (const message of later) {
      expect(await pipeline.post(message.text, 'Group.CallbackAfterSendMsg')).toBe(200);
    }
    const laterKeys = later.map((message) => pipeline.keys.get(message.text) ?? '');
    await waitFor(
      async () =>
        (await Promise.all([firstKey, ...laterKeys].map((key) => hooksQueue.getJobState(key)))).every(
          (state) => state === 'completed',
        ),
      { what: 'the throttled delivery and the later ones done' },
    );
    const deliveries = destination.received.filter((r) => r.id === firstKey);
    expect(deliveries).toHaveLength(2);
    const throttledAt = deliveries[0]?.at ?? 0;
    const waited = destination.received
      .filter((r) => r.id === firstKey || laterKeys.includes(r.id))
      .filter((r) => r !== deliveries[0])
      .map((r) => r.at - throttledAt);
    expect(waited).toHaveLength(1 + later.length);
    expect(Math.min(...waited)).toBeGreaterThanOrEqual(1900);
    // The 429 try did not count: the job completed on its first counted attempt.
    expect((await hooksQueue.getJob(firstKey))?.attemptsMade).toBe(1);

    expect(await pipeline.post(second?.text ?? '', 'Group.CallbackAfterSendMsg')).toBe(200);
    await waitFor(() => hooksQueue.isPaused(), { what: 'the destination paused after 410' });
    const secondKey = pipeline.keys.get(second?.text ?? '') ?? '';
    expect(await hooksQueue.getJobState(secondKey)).not.toMatch(/completed|failed/);
    // The operator sees it (dashboard, metrics), fixes the endpoint and resumes the queue.
    destination.answer(() => ({ status: 200 }));
    await hooksQueue.resume();
    await waitFor(async () => (await hooksQueue.getJobState(secondKey)) === 'completed', {
      what: 'delivered after resume',
    });
  });

  test('a hanging destination times out and is retried; a worker killed mid-delivery delivers again with the same webhook-id', async ({
    pipeline,
  }) => {
    const { destination, hooksQueue } = pipeline;
    const [message] = GROUP_MESSAGES;
    destination.answer(({ attempt }) => (attempt === 1 ? 'hang' : { status: 200 }));
    expect(await pipeline.post(message?.text ?? '', 'Group.CallbackAfterSendMsg')).toBe(200);
    const key = pipeline.keys.get(message?.text ?? '') ?? '';
    await waitFor(async () => (await hooksQueue.getJobState(key)) === 'completed', {
      what: 'delivered after a timeout',
    });
    expect(destination.received.filter((r) => r.id === key)).toHaveLength(2);

    // Now the worker dies while the destination holds a request open.
    const [other] = GROUP_MESSAGES.slice(1);
    destination.answer(({ attempt }) => (attempt === 1 ? 'hang' : { status: 200 }));
    const worker = pipeline.workers[0];
    await worker?.stop('SIGKILL');
    const replacement = await pipeline.startWorker({ JOB_LOCK_MS: '2000', STALLED_CHECK_MS: '1000' });
    expect(replacement).toBeDefined();
    expect(await pipeline.post(other?.text ?? '', 'Group.CallbackAfterSendMsg')).toBe(200);
    const otherKey = pipeline.keys.get(other?.text ?? '') ?? '';
    await waitFor(() => destination.received.some((r) => r.id === otherKey), { what: 'the first try under way' });
    await replacement.stop('SIGKILL');
    await pipeline.startWorker({ JOB_LOCK_MS: '2000', STALLED_CHECK_MS: '1000' });
    await waitFor(async () => (await hooksQueue.getJobState(otherKey)) === 'completed', {
      what: 'delivered by the next worker',
      timeoutMs: 30_000,
    });
    const tries = destination.received.filter((r) => r.id === otherKey);
    expect(tries.length).toBeGreaterThanOrEqual(2);
    expect(new Set(tries.map((t) => JSON.parse(t.body).id))).toEqual(new Set([otherKey]));
  });
});
