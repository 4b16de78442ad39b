import { loadFixtures } from '@imsync/fixtures';
import { type CallbackJobData, createRedis, INGEST_QUEUE } from '@imsync/queue';
import { messageKeyOf, waitFor } from '@imsync/testing';
import { Queue } from 'bullmq';
import pg from 'pg';
import { expect } from 'vitest';
import { SDK_APP_ID, test as stackTest } from './stack.js';

const MESSAGES = 300;
const COPIES = 3;

// Two worker processes race for the same messages.
const test = stackTest.extend('stackWorkers', 2);

test('duplicates processed concurrently by two worker processes are stored once', async ({ stack, redis }) => {
  const connection = createRedis(redis.url, { role: 'worker' });
  const queue = new Queue<CallbackJobData>(INGEST_QUEUE, { connection, prefix: stack.prefix });
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  try {
    const base = JSON.parse(loadFixtures()[0]?.text ?? '{}') as Record<string, unknown>;
    // Copies of one message get different job ids, as re-deliveries after the first job was removed
    // would; interleaved so both workers hold copies of the same message at the same time.
    const jobs = Array.from({ length: COPIES }, (_, copy) =>
      Array.from({ length: MESSAGES }, (_, i) => {
        const text = JSON.stringify({ ...base, MsgSeq: i + 1 });
        const key = messageKeyOf(SDK_APP_ID, text);
        return {
          name: 'group-message' as const,
          data: { sdkAppId: SDK_APP_ID, body: text, receivedAt: Date.now() },
          opts: { jobId: `${key}-${copy}`, attempts: 5 },
        };
      }),
    ).flat();
    await queue.addBulk(jobs.sort(() => Math.random() - 0.5));

    await waitFor(async () => (await queue.getCompletedCount()) === MESSAGES * COPIES, {
      what: 'all jobs completed',
      timeoutMs: 60_000,
    });
    await db.connect();
    const { rows } = await db.query<{ n: number; distinct: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT msg_seq)::int AS distinct FROM group_messages',
    );
    expect(rows[0]).toEqual({ n: MESSAGES, distinct: MESSAGES });

    // Both processes did part of the work, so the race was real.
    const done = stack.workers.map((w) => w.lines.filter((l) => l.msg === 'job done'));
    expect(done.every((lines) => lines.length > 0)).toBe(true);
    const stored = done.flat().filter((l) => l.outcome === 'stored').length;
    expect(stored).toBe(MESSAGES);
  } finally {
    await db.end().catch(() => {});
    await queue.close();
    connection.disconnect();
  }
});
