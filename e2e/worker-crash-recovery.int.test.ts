import { once } from 'node:events';
import { loadFixture } from '@imsync/fixtures';
import { createProducer, createRedis, INGEST_QUEUE } from '@imsync/queue';
import { messageKeyOf, startAppProcess, waitFor } from '@imsync/testing';
import { test } from '@imsync/testing/vitest';
import { Queue } from 'bullmq';
import pg from 'pg';
import { expect } from 'vitest';
import { SDK_APP_ID } from './stack.js';

const MESSAGES = 20;
// What an operator may expect from the defaults; the worst case they allow is 12 s.
const RECOVERY_BOUND_MS = 15_000;

// Recovery with the default JOB_LOCK_MS and STALLED_CHECK_MS (the env below sets neither): a
// worker dies holding jobs, and another takes them over once their lock ran out.
test('jobs a SIGKILLed worker held are stored by another worker within 15 s, with the defaults', {
  timeout: 90_000,
}, async ({ redis, databaseUrl }) => {
  const env = {
    REDIS_URL: redis.url,
    DATABASE_URL: databaseUrl,
    TIM_SDK_APP_ID: SDK_APP_ID,
    QUEUE_PREFIX: `crash${process.pid}`,
    METRICS_PORT: '0',
  };
  const first = await startAppProcess('worker', env);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const connection = createRedis(redis.url, { role: 'producer' });
  await once(connection, 'ready');
  const queue = new Queue(INGEST_QUEUE, { connection, prefix: env.QUEUE_PREFIX });
  let second: Awaited<ReturnType<typeof startAppProcess>> | undefined;
  try {
    // Hold the archive table so the first worker's INSERT blocks: its jobs stay active, locked.
    await db.query('BEGIN');
    await db.query('LOCK TABLE group_messages IN ACCESS EXCLUSIVE MODE');
    const producer = createProducer({ connection, layout: { prefix: env.QUEUE_PREFIX } });
    const base = JSON.parse(loadFixture('text-public').text) as Record<string, unknown>;
    const bodies = Array.from({ length: MESSAGES }, (_, i) => JSON.stringify({ ...base, MsgSeq: i + 1 }));
    await Promise.all(
      bodies.map((body) =>
        producer.enqueue(
          'group-message',
          { sdkAppId: SDK_APP_ID, body, receivedAt: Date.now() },
          messageKeyOf(SDK_APP_ID, body),
        ),
      ),
    );
    await waitFor(async () => (await queue.getActiveCount()) === MESSAGES, { what: 'all jobs active' });

    await first.stop('SIGKILL');
    const killedAt = Date.now();
    // A dead worker's INSERTs would still run on its orphaned PostgreSQL backends once the table
    // is free; a crashed host takes its connections with it, so end them here too.
    await db.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    await db.query('ROLLBACK');
    second = await startAppProcess('worker', env);
    await waitFor(
      async () => {
        const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM group_messages');
        return rows[0]?.n === MESSAGES;
      },
      { what: 'every message stored', timeoutMs: 60_000 },
    );
    const recoveredMs = Date.now() - killedAt;
    expect(recoveredMs).toBeLessThan(RECOVERY_BOUND_MS);
    // Taken over, not failed: every job completed by the second worker, nothing stored twice.
    await waitFor(async () => (await queue.getCompletedCount()) === MESSAGES, { what: 'every job completed' });
    expect(await queue.getFailedCount()).toBe(0);
    expect(second.lines.filter((line) => line.outcome === 'stored')).toHaveLength(MESSAGES);
    const { rows } = await db.query<{ n: number }>('SELECT count(DISTINCT msg_seq)::int AS n FROM group_messages');
    expect(rows[0]?.n).toBe(MESSAGES);
  } finally {
    await db.end().catch(() => {});
    await queue.close();
    connection.disconnect();
    await Promise.all([first.stop('SIGKILL'), second?.stop()]);
  }
});
