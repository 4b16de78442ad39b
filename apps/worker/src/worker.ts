import { delay } from '@imsync/async';
import { JOB_KINDS, type JobKind } from '@imsync/protocol';
import {
  type CallbackJobData,
  cappedExponentialBackoff,
  type JobName,
  type QueueLocation,
  type RedisClient,
  traceparentOf,
} from '@imsync/queue';
import type { Logger } from '@imsync/runtime';
import type { StoreOutcome } from '@imsync/sinks';
import { contextOf, inSpan, SpanKind } from '@imsync/tracing';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { WorkerMetrics } from './metrics.js';
import { type CallbackDeps, processCallback } from './processors/callback.js';
import { workerOptions } from './worker-options.js';

export interface IngestWorkerOptions extends CallbackDeps {
  /** A connection created with role `worker`; BullMQ duplicates it for its blocking reads. */
  connection: RedisClient;
  /** The ingest queues to read (QueueLayout.consumed): one, or every shard. */
  queues: readonly QueueLocation[];
  /** Jobs in progress at once in this process, shared out over the queues. */
  concurrency: number;
  maxRetryDelayMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  logger: Logger;
  metrics: WorkerMetrics;
  /** Tests start the worker themselves. */
  autorun?: boolean;
  /** After the last job in progress finished, how long close() still waits for BullMQ (ms). */
  closeGraceMs?: number;
}

type IngestJob = Job<CallbackJobData, StoreOutcome, JobName>;

export type IngestWorker = Worker<CallbackJobData, StoreOutcome, JobName>;

export interface IngestWorkerHandle {
  /** One BullMQ worker per queue read. */
  readonly workers: readonly IngestWorker[];
  /**
   * Stops taking jobs and resolves once the jobs in progress are done. BullMQ's own close() can
   * hang for good when Redis restarted moments before (taskforcesh/bullmq#4656), so it is not
   * waited for beyond `closeGraceMs` after the last job finished.
   */
  close(): Promise<void>;
}

const isJobKind = (name: string): name is JobKind => (JOB_KINDS as readonly string[]).includes(name);

/** A BullMQ worker on the ingest queue, for every kind of job, logging and measuring one line per try. */
export function createIngestWorker(options: IngestWorkerOptions): IngestWorkerHandle {
  const { logger, metrics } = options;
  const inFlight = new InFlight();

  const processor = async (job: IngestJob): Promise<StoreOutcome> => {
    inFlight.start();
    try {
      return await processOne(job);
    } finally {
      inFlight.end();
    }
  };

  const processOne = async (job: IngestJob): Promise<StoreOutcome> => {
    const started = performance.now();
    // A forged job could carry any name: the metric label stays bounded.
    const kind = isJobKind(job.name) ? job.name : 'unknown';
    const log = (outcome: string, extra: Record<string, unknown> = {}) => {
      const seconds = (performance.now() - started) / 1000;
      metrics.jobDuration.observe({ outcome, kind }, seconds);
      return {
        jobId: job.id,
        kind: job.name,
        requestId: job.data.requestId,
        attempt: job.attemptsMade + 1,
        durationMs: Math.round(seconds * 1000),
        outcome,
        ...extra,
      };
    };
    try {
      if (!isJobKind(job.name)) {
        throw new UnrecoverableError(`unknown job name ${JSON.stringify(job.name)}`);
      }
      const kindOfJob = job.name;
      // The job's span joins the trace of the callback that queued it (its data's traceparent).
      const outcome = await inSpan(
        `process ${kindOfJob}`,
        {
          kind: SpanKind.CONSUMER,
          parent: contextOf(traceparentOf(job.data)),
          attributes: { 'imsync.job_id': job.id ?? '', 'imsync.attempt': job.attemptsMade + 1 },
        },
        async (span) => {
          const result = await processCallback(kindOfJob, job.data, {
            ...options,
            onSinkError: () => metrics.sinkErrors.inc({ sink: options.archive.name }),
          });
          span.setAttribute('imsync.outcome', result);
          return result;
        },
      );
      metrics.jobsProcessed.inc({ outcome, kind });
      // Counted once stored, not when fetched: a callback that arrives late, while backfill fetched
      // its message too, makes the history's copy a duplicate, and nothing was recovered.
      if (outcome === 'stored' && job.data.source === 'backfill') {
        metrics.backfillRecovered.inc();
      }
      logger.info(log(outcome), 'job done');
      return outcome;
    } catch (error) {
      const final = error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const outcome = final ? 'failed' : 'retried';
      metrics.jobsProcessed.inc({ outcome, kind });
      logger[final ? 'error' : 'warn'](log(outcome, { err: error }), final ? 'job failed' : 'job will retry');
      throw error;
    }
  };

  // Every queue gets its share of the concurrency: a process's load stays what WORKER_CONCURRENCY says.
  const perQueue = Math.max(1, Math.ceil(options.concurrency / options.queues.length));
  const workers = options.queues.map((location) => {
    const worker = new Worker<CallbackJobData, StoreOutcome, JobName>(location.name, processor, {
      ...workerOptions({ ...options, prefix: location.prefix, concurrency: perQueue }),
      autorun: options.autorun ?? true,
      settings: { backoffStrategy: cappedExponentialBackoff(options.maxRetryDelayMs) },
    });
    // Without an error listener a lost connection would crash the process; it reconnects by itself.
    worker.on('error', (error) => logger.error({ err: error, queue: location.name }, 'worker error'));
    return worker;
  });
  const graceMs = options.closeGraceMs ?? 2000;
  return {
    workers,
    async close() {
      const closed = Promise.all(workers.map((worker) => worker.close()));
      closed.catch((error: unknown) => logger.warn({ err: error }, 'worker close failed'));
      const drained = inFlight.idle().then(() => delay(graceMs));
      await Promise.race([closed, drained]);
    },
  };
}

/** Counts the jobs this process is working on, and tells when there are none. */
class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  start(): void {
    this.count++;
  }

  end(): void {
    this.count--;
    if (this.count === 0) {
      for (const resolve of this.waiters.splice(0)) {
        resolve();
      }
    }
  }

  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
