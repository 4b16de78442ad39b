import {
  BACKFILL_PAGE_JOB,
  type BackfillPage,
  BackfillPageSchema,
  backfillPageId,
  GAP_SCAN_JOB,
  type QueueLayout,
  type RedisClient,
} from '@imsync/queue';
import type { Logger } from '@imsync/runtime';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import * as v from 'valibot';
import type { WorkerMetrics } from '../metrics.js';
import { workerOptions } from '../worker-options.js';
import { type BackfillDeps, processBackfillPage, ThrottledError } from './backfill.js';
import { type ScanOptions, scanForGaps } from './scan.js';

export interface GapWorkerOptions {
  connection: RedisClient;
  layout: QueueLayout;
  /** Backfill pages (one history call each) per second at most: far under Tencent's app-wide 200/s. */
  rate: number;
  concurrency: number;
  scanIntervalMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  scan: Omit<ScanOptions, 'enqueue'>;
  backfill: Omit<BackfillDeps, 'enqueuePage' | 'sequences'>;
  logger: Logger;
  metrics: WorkerMetrics;
}

export interface GapWorkerHandle {
  readonly queue: Queue;
  close(): Promise<void>;
}

/** How long the backfill queue waits after Tencent throttled it: a few seconds, with jitter. */
const throttlePauseMs = () => 2000 + Math.round(Math.random() * 3000);

/**
 * Gap detection and backfill on their own queue: a repeated scan (BullMQ's job scheduler, so
 * one at a time whichever worker takes it) and one job per history page, the queue's limiter
 * keeping the call rate far under Tencent's app-wide limit.
 */
export function createGapWorker(options: GapWorkerOptions): GapWorkerHandle {
  const { logger, metrics } = options;
  const location = options.layout.backfill;
  const queue = new Queue(location.name, { connection: options.connection, prefix: location.prefix });
  queue.on('error', (error) => logger.warn({ err: error.message }, 'backfill queue error'));

  const enqueuePage = async (page: BackfillPage) => {
    await queue.add(BACKFILL_PAGE_JOB, page, {
      jobId: backfillPageId(page),
      attempts: 12,
      // Tencent's internal errors (10002, 60008) and network faults: backoff with jitter, so the
      // pages of many holes do not retry in step.
      backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 14 * 24 * 3600 },
    });
  };

  const processor = async (job: Job) => {
    if (job.name === GAP_SCAN_JOB) {
      const result = await scanForGaps({ ...options.scan, enqueue: enqueuePage });
      metrics.gapHolesFound.inc(result.holesFound);
      if (result.holesFound > 0) {
        logger.warn({ ...result }, 'sequence holes found');
      }
      return;
    }
    if (job.name !== BACKFILL_PAGE_JOB) {
      throw new UnrecoverableError(`unknown job ${job.name}`);
    }
    const page = v.safeParse(BackfillPageSchema, job.data);
    if (!page.success) {
      throw new UnrecoverableError('backfill job data invalid');
    }
    try {
      const outcome = await processBackfillPage(page.output, {
        ...options.backfill,
        sequences: options.scan.sequences,
        enqueuePage,
      });
      logger.info({ ...page.output, ...outcome }, 'backfill page done');
    } catch (error) {
      if (error instanceof ThrottledError) {
        // Tencent's limit is app-wide: the whole queue waits, and this try does not count.
        logger.warn({ err: error.message }, 'backfill throttled by Tencent');
        await worker.rateLimit(throttlePauseMs());
        throw Worker.RateLimitError();
      }
      throw error;
    }
  };

  const worker = new Worker(location.name, processor, {
    ...workerOptions({ ...options, prefix: location.prefix }),
    limiter: { max: options.rate, duration: 1000 },
  });
  worker.on('error', (error) => logger.error({ err: error }, 'backfill worker error'));
  worker.on('failed', (job, error) => {
    if (job?.name === GAP_SCAN_JOB) {
      // The next scan comes with the scheduler's next period.
      logger.error({ err: error.message }, 'gap scan failed');
    } else if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
      logger.error({ jobId: job.id, err: error.message }, 'backfill job failed for good: its hole stays open');
    }
  });
  void queue
    .upsertJobScheduler(GAP_SCAN_JOB, { every: options.scanIntervalMs }, { name: GAP_SCAN_JOB })
    .catch((error: unknown) => logger.error({ err: error }, 'could not schedule the gap scan'));

  return {
    queue,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
