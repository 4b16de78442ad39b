import type { RedisClient } from '@imsync/queue';
import type { WorkerOptions } from 'bullmq';

export interface RunOptions {
  /** A connection created with role `worker`; BullMQ duplicates it for its blocking reads. */
  connection: RedisClient;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/**
 * What every imsync BullMQ worker shares: its connection, and how a job caught in a crash is taken
 * over (lock and stalled check; see JOB_LOCK_MS). Processing is idempotent, so such a job may be
 * taken over again and again before it counts as failed.
 */
export function workerOptions(options: RunOptions): WorkerOptions {
  return {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: 10,
  };
}
