import { loadFixtures } from '@imsync/fixtures';
import { createRedis, GROUP_MESSAGE_JOB, GROUP_MESSAGES_QUEUE, type GroupMessageJobData } from '@imsync/queue';
import {
  messageKeyOf,
  type PostgresService,
  type RedisService,
  startPostgres,
  startRedis,
  waitFor,
} from '@imsync/testing';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SDK_APP_ID, startStack } from './stack.js';

let redis: RedisService;
let postgres: PostgresService;

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
});
afterAll(async () => {
  await Promise.all([redis?.dispose(), postgres?.dispose()]);
});

const MESSAGES = 300;
const COPIES = 3;

test('duplicates processed concurrently by two worker processes are stored once', async () => {
  const stack = await startStack(redis, postgres, 2);
  const connection = createRedis(redis.url, { role: 'worker' });
  const queue = new Queue<GroupMessageJobData>(GROUP_MESSAGES_QUEUE, { connection, prefix: stack.prefix });
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
          name: GROUP_MESSAGE_JOB,
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
    await stack.stop();
  }
});
