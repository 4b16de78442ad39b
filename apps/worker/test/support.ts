import {
  type CallbackJobData,
  createRedis,
  DEFAULT_RETENTION_POLICY,
  INGEST_QUEUE,
  ingestJobOptions,
} from '@imsync/queue';
import { createRegistry } from '@imsync/runtime';
import { createPool, migrate, PostgresArchive } from '@imsync/sinks';
import { createCaptureLogger } from '@imsync/testing';
import { test as base } from '@imsync/testing/vitest';
import { Queue } from 'bullmq';
import type pg from 'pg';
import { DEFAULT_JOB_LOCK_MS, DEFAULT_STALLED_CHECK_MS } from '../src/config.js';
import { createRedisDedupe } from '../src/dedupe.js';
import { createWorkerMetrics } from '../src/metrics.js';
import { createIngestWorker, type IngestWorker } from '../src/worker.js';

export const SDK_APP_ID = '1600012345';

export interface TestWorker {
  worker: IngestWorker;
  /** What the process calls on SIGTERM: stop taking jobs, let the ones in progress finish. */
  stopWorker(): Promise<void>;
  /** The producer side of the same queue, to add jobs and inspect their state. */
  queue: Queue<CallbackJobData>;
  pool: pg.Pool;
  registry: ReturnType<typeof createRegistry>;
  logLines: Record<string, unknown>[];
  /** Job options as the receiver would set them, with a short retry schedule for tests. */
  jobOptions(attempts: number): ReturnType<typeof ingestJobOptions>;
  close(): Promise<void>;
}

let counter = 0;

/**
 * A worker in this process on a real Redis and a fresh PostgreSQL database, with its own queue
 * prefix. The caller closes it: the `worker` fixture below does, for tests that need no options.
 */
async function buildWorker(
  redisUrl: string,
  databaseUrl: string,
  options: { maxRetryDelayMs?: number } = {},
): Promise<TestWorker> {
  const prefix = `w${process.pid}x${++counter}x${Date.now().toString(36)}`;
  const pool = createPool({ connectionString: databaseUrl, onIdleError: () => {} });
  await migrate(pool);
  const connection = createRedis(redisUrl, { role: 'worker' });
  connection.on('error', () => {});
  const { logger, lines: logLines } = createCaptureLogger('test-worker');
  const registry = createRegistry();
  const {
    workers: [worker],
    close: stopWorker,
  } = createIngestWorker({
    connection,
    queues: [{ name: INGEST_QUEUE, prefix }],
    concurrency: 20,
    maxRetryDelayMs: options.maxRetryDelayMs ?? 100,
    lockDurationMs: DEFAULT_JOB_LOCK_MS,
    stalledIntervalMs: DEFAULT_STALLED_CHECK_MS,
    sdkAppIds: new Set([SDK_APP_ID]),
    archive: new PostgresArchive({ pool }),
    dedupe: createRedisDedupe(connection, prefix, 3600),
    logger,
    metrics: createWorkerMetrics(registry),
  });
  const queueConnection = createRedis(redisUrl, { role: 'worker' });
  queueConnection.on('error', () => {});
  const queue = new Queue<CallbackJobData>(INGEST_QUEUE, { connection: queueConnection, prefix });
  return {
    worker: worker as IngestWorker,
    stopWorker,
    queue,
    pool,
    registry,
    logLines,
    jobOptions: (attempts) => ingestJobOptions({ attempts, baseDelayMs: 20 }, DEFAULT_RETENTION_POLICY),
    async close() {
      await stopWorker();
      await queue.close();
      await pool.end();
      connection.disconnect();
      queueConnection.disconnect();
    },
  };
}

/** `test` with a `worker` on the file's Redis and the test's own database, closed after the test. */
export const test = base.extend('worker', async ({ redis, databaseUrl }, { onCleanup }) => {
  const worker = await buildWorker(redis.url, databaseUrl);
  onCleanup(() => worker.close());
  return worker;
});

export async function rowCount(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM group_messages');
  return rows[0]?.n ?? 0;
}
