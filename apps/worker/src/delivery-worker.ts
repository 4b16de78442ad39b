import { delay } from '@imsync/async';
import type { DeliveryOutcome, Destination } from '@imsync/destinations';
import { retryDelayMs } from '@imsync/destinations';
import {
  DELIVERY_BACKOFF,
  type DELIVERY_JOB,
  type DeliveryJobData,
  DeliveryJobDataSchema,
  type QueueLayout,
  type RedisClient,
  traceparentOf,
} from '@imsync/queue';
import type { Logger } from '@imsync/runtime';
import { contextOf, inSpan, SpanKind } from '@imsync/tracing';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import * as v from 'valibot';
import type { WorkerMetrics } from './metrics.js';
import { workerOptions } from './worker-options.js';

/** The limiter's max when a destination sets no rate: more than any worker can deliver in a second. */
const UNLIMITED_PER_SECOND = 1_000_000_000;

export interface DeliveryWorkerOptions {
  connection: RedisClient;
  layout: QueueLayout;
  destination: Destination;
  /** Waits before each attempt; its length is the number of attempts. */
  retrySchedule: readonly number[];
  concurrency: number;
  /** At most `max` deliveries per `durationMs` (BullMQ's limiter); unlimited when absent. */
  rateLimit?: { max: number; durationMs: number };
  lockDurationMs: number;
  stalledIntervalMs: number;
  logger: Logger;
  metrics: WorkerMetrics;
}

export interface DeliveryWorkerHandle {
  readonly worker: Worker<DeliveryJobData, void, typeof DELIVERY_JOB>;
  readonly queue: Queue;
  close(): Promise<void>;
}

/**
 * A BullMQ worker on one destination's queue, using what BullMQ already does: the queue's limiter
 * for the destination's rate limit, `rateLimit()` when it says 429/503 with `Retry-After` (the
 * whole queue waits and no attempt is spent), a backoff strategy for its retry schedule, the
 * failed set as its dead-letter queue, and a global pause when it answers 410 Gone.
 */
export function createDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorkerHandle {
  const { destination, logger, metrics } = options;
  const name = destination.name;
  const location = options.layout.delivery(name);
  const queueName = location.name;
  const queue = new Queue(queueName, { connection: options.connection, prefix: location.prefix });
  queue.on('error', (error) => logger.warn({ err: error.message, destination: name }, 'queue error'));
  const aborts = new AbortController();

  // Each delivery in a span of its own, in the trace of the ingest job that fanned it out.
  const processor = (job: Job<DeliveryJobData, void, typeof DELIVERY_JOB>): Promise<void> =>
    inSpan(
      `deliver ${name}`,
      {
        kind: SpanKind.CONSUMER,
        parent: contextOf(traceparentOf(job.data)),
        attributes: {
          'imsync.destination': name,
          'imsync.job_id': job.id ?? '',
          'imsync.attempt': job.attemptsMade + 1,
        },
      },
      () => deliverOne(job),
    );

  const deliverOne = async (job: Job<DeliveryJobData, void, typeof DELIVERY_JOB>): Promise<void> => {
    const started = performance.now();
    const parsed = v.safeParse(DeliveryJobDataSchema, job.data);
    if (!parsed.success) {
      throw new UnrecoverableError('delivery job data invalid');
    }
    const event = { ...parsed.output, receivedAt: new Date(parsed.output.receivedAt) };
    const outcome: DeliveryOutcome = await destination
      .deliver(event, aborts.signal)
      .catch((error: unknown) => ({ kind: 'retry', reason: `destination threw: ${(error as Error).message}` }));
    const line = {
      destination: name,
      jobId: job.id,
      key: event.key,
      attempt: job.attemptsMade + 1,
      durationMs: Math.round(performance.now() - started),
      outcome: outcome.kind,
      ...('reason' in outcome && { reason: outcome.reason }),
    };
    switch (outcome.kind) {
      case 'delivered':
        metrics.deliveries.inc({ destination: name, outcome: 'delivered' });
        metrics.deliveryLatency.observe({ destination: name }, (Date.now() - event.receivedAt.getTime()) / 1000);
        logger.info(line, 'delivered');
        return;
      case 'retry':
        if (outcome.retryAfterMs !== undefined) {
          // The destination asked for a pause: the whole queue waits, and this try does not count.
          metrics.deliveries.inc({ destination: name, outcome: 'throttled' });
          logger.warn({ ...line, retryAfterMs: outcome.retryAfterMs }, 'delivery throttled');
          await worker.rateLimit(outcome.retryAfterMs);
          throw Worker.RateLimitError();
        }
        metrics.deliveries.inc({ destination: name, outcome: 'retried' });
        logger.warn(line, 'delivery will retry');
        throw new Error(outcome.reason);
      case 'gone':
        // 410: the destination asks to stop. Pause its queue (for every worker); its jobs wait
        // until an operator resumes it, in the dashboard. This try does not count either.
        metrics.deliveries.inc({ destination: name, outcome: 'gone' });
        logger.error(line, 'destination gone (410): its queue is paused until resumed');
        await queue.pause();
        await worker.rateLimit(1000);
        throw Worker.RateLimitError();
      case 'rejected':
        metrics.deliveries.inc({ destination: name, outcome: 'failed' });
        logger.error(line, 'delivery refused for good');
        throw new UnrecoverableError(outcome.reason);
    }
  };

  const worker = new Worker<DeliveryJobData, void, typeof DELIVERY_JOB>(queueName, processor, {
    ...workerOptions({ ...options, prefix: location.prefix }),
    // Always a limiter: BullMQ honours worker.rateLimit() (429/503 with Retry-After, 410) only on
    // a queue whose workers have one (moveToActive reads the limiter key only with a max). Without
    // a configured rate, its max is one no destination reaches. Seen: a throttled delivery was
    // taken again 250 ms into its 1 s Retry-After by another of the worker's fetches.
    limiter: options.rateLimit
      ? { max: options.rateLimit.max, duration: options.rateLimit.durationMs }
      : { max: UNLIMITED_PER_SECOND, duration: 1000 },
    settings: {
      backoffStrategy: (attemptsMade, type) => {
        if (type !== DELIVERY_BACKOFF) {
          throw new Error(`unknown backoff type ${type}`);
        }
        return retryDelayMs(attemptsMade, options.retrySchedule) ?? 0;
      },
    },
  });
  worker.on('error', (error) => logger.error({ err: error, destination: name }, 'delivery worker error'));
  worker.on('failed', (job, error) => {
    if (job && (error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1))) {
      logger.error({ destination: name, jobId: job.id, err: error.message }, 'delivery failed for good');
    }
  });

  return {
    worker,
    queue,
    async close() {
      aborts.abort();
      const closed = worker.close();
      closed.catch(() => {});
      // As for the ingest worker: BullMQ's close() may hang after a Redis restart.
      await Promise.race([closed, delay(5000)]);
      await queue.close().catch(() => {});
      await destination.close?.();
    },
  };
}
