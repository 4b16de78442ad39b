import { loadFixture } from '@imsync/fixtures';
import { createRedis, INGEST_QUEUE } from '@imsync/queue';
import { signedCallbackUrl, waitFor } from '@imsync/testing';
import { Queue } from 'bullmq';
import pg from 'pg';
import { expect } from 'vitest';
import { SDK_APP_ID, signed, test } from './stack.js';

// What an operator's Prometheus sees, scraped from the real processes after traffic of every kind.

/** `name{labels} value` lines of a scrape, with the process's default `service` label dropped. */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = line.match(/^([a-z_:]+)(\{[^}]*\})? (\S+)$/);
    if (match) {
      const labels = (match[2] ?? '')
        .replace(/,?service="[^"]*"/, '')
        .replace('{,', '{')
        .replace('{}', '');
      samples.set(`${match[1]}${labels}`, Number(match[3]));
    }
  }
  return samples;
}

test('receiver and worker expose the documented metrics with the right counts', async ({ stack, redis }) => {
  const worker = stack.workers[0];
  const workerPort = (await worker?.waitForLine((line) => line.msg === 'worker started'))?.port;
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  const connection = createRedis(redis.url, { role: 'worker' });
  const queue = new Queue(INGEST_QUEUE, { connection, prefix: stack.prefix });
  try {
    await db.connect();
    await db.query(`ALTER TABLE group_messages ADD CONSTRAINT no_poison CHECK (from_account <> 'poison')`);
    const base = loadFixture('text-public').body;
    const body = (seq: number, from = 'lin.wei') => JSON.stringify({ ...base, MsgSeq: seq, From_Account: from });
    const post = (url: string, text: string) => fetch(url, { method: 'POST', body: text });

    for (const seq of [1, 2, 3]) {
      expect((await post(signed(stack.receiverUrl), body(seq))).status).toBe(200);
    }
    expect((await post(signed(stack.receiverUrl), body(4, 'poison'))).status).toBe(200);
    const forged = signedCallbackUrl(stack.receiverUrl, { sdkAppId: SDK_APP_ID, token: 'not-the-token' });
    expect((await post(forged, body(5))).status).toBe(401);
    // A command outside the catalog: acknowledged and counted, never queued.
    const other = signed(stack.receiverUrl).replace('Group.CallbackAfterSendMsg', 'State.StateChange');
    expect((await post(other, JSON.stringify({ CallbackCommand: 'State.StateChange' }))).status).toBe(200);
    // The same message again under another job id: the worker finds it already stored.
    await queue.add(
      'group-message',
      { sdkAppId: SDK_APP_ID, body: body(1), receivedAt: Date.now() },
      { jobId: 'again' },
    );
    await waitFor(async () => (await queue.getCompletedCount()) === 4 && (await queue.getFailedCount()) === 1, {
      what: '4 completed and 1 failed job',
    });

    // A short archive outage: the next message is retried, then stored.
    await db.query('ALTER TABLE group_messages RENAME TO group_messages_away');
    expect((await post(signed(stack.receiverUrl), body(6))).status).toBe(200);
    await worker?.waitForLine((line) => line.msg === 'job will retry');
    await db.query('ALTER TABLE group_messages_away RENAME TO group_messages');
    await waitFor(async () => (await queue.getCompletedCount()) === 5, { what: 'the retried job completed' });

    const receiver = await scrape(`${stack.receiverOpsUrl}/metrics`);
    const GROUP_MESSAGES = 'app="1600012345",command="Group.CallbackAfterSendMsg"';
    expect(receiver.get(`imsync_callbacks_received_total{outcome="accepted",reason="",${GROUP_MESSAGES}}`)).toBe(5);
    expect(
      receiver.get(
        'imsync_callbacks_received_total{outcome="rejected",reason="signature_mismatch",app="1600012345",command=""}',
      ),
    ).toBe(1);
    expect(
      receiver.get(
        'imsync_callbacks_received_total{outcome="other_command",reason="",app="1600012345",command="other"}',
      ),
    ).toBe(1);
    expect(receiver.get('imsync_callback_ack_duration_seconds_count{outcome="accepted"}')).toBe(5);
    expect(receiver.get('process_cpu_seconds_total')).toBeGreaterThan(0);

    const workerMetrics = await scrape(`http://127.0.0.1:${workerPort}/metrics`);
    expect(workerMetrics.get('imsync_jobs_processed_total{outcome="stored",kind="group-message"}')).toBe(4);
    expect(workerMetrics.get('imsync_jobs_processed_total{outcome="duplicate",kind="group-message"}')).toBe(1);
    expect(workerMetrics.get('imsync_jobs_processed_total{outcome="failed",kind="group-message"}')).toBe(1);
    expect(
      workerMetrics.get('imsync_jobs_processed_total{outcome="retried",kind="group-message"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(workerMetrics.get('imsync_sink_errors_total{sink="postgres"}')).toBeGreaterThanOrEqual(1);
    expect(workerMetrics.get('imsync_job_duration_seconds_count{outcome="stored",kind="group-message"}')).toBe(4);
    expect(workerMetrics.get('imsync_queue_jobs{queue="group-messages",state="completed"}')).toBe(5);
    expect(workerMetrics.get('imsync_queue_jobs{queue="group-messages",state="failed"}')).toBe(1);
    expect(workerMetrics.get('imsync_queue_oldest_waiting_age_seconds{queue="group-messages"}')).toBe(0);
    expect(workerMetrics.get('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);

    // Prometheus naming: one prefix, counters in _total, no per-group or per-user labels.
    for (const name of [...receiver.keys(), ...workerMetrics.keys()].filter((key) => key.startsWith('imsync_'))) {
      expect(name).not.toMatch(/group_id=|groupid=|user=|account=|from_account=/i);
    }
    const text = await (await fetch(`${stack.receiverOpsUrl}/metrics`)).text();
    for (const [, counter] of text.matchAll(/^# TYPE (imsync_\w+) counter$/gm)) {
      expect(counter).toMatch(/_total$/);
    }
  } finally {
    await db.end().catch(() => {});
    await queue.close();
    connection.disconnect();
  }
});

test('every process answers /healthz and names the failing dependency in /readyz on its ops port', async ({
  stack,
  redis,
}) => {
  const worker = stack.workers[0];
  const workerPort = (await worker?.waitForLine((line) => line.msg === 'worker started'))?.port;
  const publicBase = stack.receiverUrl.replace('/im/callback', '');
  const opsBases = [stack.receiverOpsUrl, `http://127.0.0.1:${workerPort}`];
  for (const base of opsBases) {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({ status: 'ready' });
  }
  await redis.stop('graceful');
  try {
    for (const base of opsBases) {
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'unready', failing: ['redis'] });
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    }
    // The public port tells a stranger only that the process runs: no dependency errors, no traffic.
    const health = await fetch(`${publicBase}/healthz`);
    expect({ status: health.status, body: await health.text() }).toEqual({ status: 200, body: '{"status":"ok"}' });
    for (const path of ['/readyz', '/metrics']) {
      expect((await fetch(`${publicBase}${path}`)).status).toBe(404);
    }
  } finally {
    await redis.start();
  }
});
