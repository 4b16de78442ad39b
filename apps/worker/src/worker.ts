import {
  cappedExponentialBackoff,
  type GROUP_MESSAGE_JOB,
  GROUP_MESSAGES_QUEUE,
  type GroupMessageJobData,
} from '@imsync/queue';
import type { Logger } from '@imsync/runtime';
import type { StoreOutcome } from '@imsync/sinks';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerMetrics } from './metrics.js';
import { type GroupMessageDeps, processGroupMessage } from './processors/group-message.js';

export interface GroupMessageWorkerOptions extends GroupMessageDeps {
  /** A connection created with role `worker`; BullMQ duplicates it for its blocking reads. */
  connection: Redis;
  prefix: string;
  concurrency: number;
  maxRetryDelayMs: number;
  lockDurationMs: number;
  logger: Logger;
  metrics: WorkerMetrics;
  /** Tests start the worker themselves. */
  autorun?: boolean;
}

type GroupMessageJob = Job<GroupMessageJobData, StoreOutcome, typeof GROUP_MESSAGE_JOB>;

/** A BullMQ worker on the group-message queue, logging and measuring one line per try. */
export type GroupMessageWorker = Worker<GroupMessageJobData, StoreOutcome, typeof GROUP_MESSAGE_JOB>;

export function createGroupMessageWorker(options: GroupMessageWorkerOptions): GroupMessageWorker {
  const { logger, metrics } = options;

  const processor = async (job: GroupMessageJob): Promise<StoreOutcome> => {
    const started = performance.now();
    const log = (outcome: string, extra: Record<string, unknown> = {}) => {
      const seconds = (performance.now() - started) / 1000;
      metrics.jobDuration.observe({ outcome }, seconds);
      return {
        jobId: job.id,
        requestId: job.data.requestId,
        attempt: job.attemptsMade + 1,
        durationMs: Math.round(seconds * 1000),
        outcome,
        ...extra,
      };
    };
    try {
      const outcome = await processGroupMessage(job.data, options);
      metrics.jobsProcessed.inc({ outcome });
      logger.info(log(outcome), 'job done');
      return outcome;
    } catch (error) {
      const final = error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const outcome = final ? 'failed' : 'retried';
      metrics.jobsProcessed.inc({ outcome });
      if (!(error instanceof UnrecoverableError)) {
        metrics.sinkErrors.inc({ sink: options.sink.name });
      }
      logger[final ? 'error' : 'warn'](log(outcome, { err: error }), final ? 'job failed' : 'job will retry');
      throw error;
    }
  };

  const worker = new Worker<GroupMessageJobData, StoreOutcome, typeof GROUP_MESSAGE_JOB>(
    GROUP_MESSAGES_QUEUE,
    processor,
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      // Processing is idempotent, so a job caught in a crash may be taken over again and again.
      maxStalledCount: 10,
      autorun: options.autorun ?? true,
      settings: { backoffStrategy: cappedExponentialBackoff(options.maxRetryDelayMs) },
    },
  );
  // Without an error listener a lost connection would crash the process; it reconnects by itself.
  worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
  return worker;
}
