import { type JobsOptions, QueueKeys } from 'bullmq';
import type { Redis } from 'ioredis';
import { ADD_JOBS_SCRIPT } from './add-jobs-script.js';
import type { GroupMessageJobData } from './job.js';
import { GROUP_MESSAGE_JOB, GROUP_MESSAGES_QUEUE } from './names.js';
import {
  DEFAULT_RETENTION_POLICY,
  DEFAULT_RETRY_POLICY,
  groupMessageJobOptions,
  type JobRetryOptions,
  type RetentionPolicy,
} from './retry.js';

/** `added`: a new job; `exists`: a job with this id is still kept (the same message, sent again). */
export type EnqueueOutcome = 'added' | 'exists';

export interface GroupMessageProducer {
  /**
   * Resolves once Redis holds the job. `jobId` is the message key, so enqueueing the same message
   * again while its job is still kept is a no-op. Rejects when Redis is unreachable or too slow.
   */
  enqueue(data: GroupMessageJobData, jobId: string): Promise<EnqueueOutcome>;
  /** Resolves when Redis answers a PING (for readiness). */
  ping(): Promise<void>;
  /** Waits for the writes in flight; the caller owns and closes the connection. */
  close(): Promise<void>;
}

export interface ProducerOptions {
  /** A connection created with role `producer`; the caller owns and closes it. */
  connection: Redis;
  prefix: string;
  retry?: JobRetryOptions;
  retention?: RetentionPolicy;
  /** An enqueue that has not completed after this long fails (ms); the caller answers 503. */
  timeoutMs?: number;
  /** Jobs per Redis call at most. */
  maxBatch?: number;
}

/** Redis did not take the job: the message is not stored and the callback must not get a 200. */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

interface Pending {
  jobId: string;
  data: string;
  resolve: (outcome: EnqueueOutcome) => void;
  reject: (error: unknown) => void;
}

type AddJobs = (...args: string[]) => Promise<number[]>;

const SAFE_JOB_ID = /^[\w-]{1,128}$/;

/**
 * Enqueues group-message jobs. Callbacks accepted during the same turn of the event loop share one
 * Redis call (the add-jobs script): under load that turns thousands of round trips and script runs
 * a second into a few hundred, while a lone callback is still written at once (no timer).
 */
export function createGroupMessageProducer(options: ProducerOptions): GroupMessageProducer {
  const { connection } = options;
  const keys = new QueueKeys(options.prefix).getKeys(GROUP_MESSAGES_QUEUE);
  const scriptKeys = [keys.wait, keys.meta, keys.id, keys.active, keys.events, keys.marker] as string[];
  const jobKeyPrefix = `${keys['']}`;
  const optsHead = optionsHead(
    groupMessageJobOptions(options.retry ?? DEFAULT_RETRY_POLICY, options.retention ?? DEFAULT_RETENTION_POLICY),
  );
  if (!('imsyncAddJobs' in connection)) {
    connection.defineCommand('imsyncAddJobs', { numberOfKeys: scriptKeys.length, lua: ADD_JOBS_SCRIPT });
  }
  const addJobs = (connection as unknown as { imsyncAddJobs: AddJobs }).imsyncAddJobs.bind(connection);
  const timeoutMs = options.timeoutMs ?? 1000;
  const maxBatch = options.maxBatch ?? 500;
  let pending: Pending[] = [];
  let flushScheduled = false;
  const inFlight = new Set<Promise<void>>();

  const write = async (batch: Pending[]) => {
    const args = [...scriptKeys, jobKeyPrefix, GROUP_MESSAGE_JOB, String(Date.now()), optsHead];
    for (const job of batch) {
      args.push(job.jobId, job.data);
    }
    try {
      // One timer for the whole batch; the jobs were queued only a moment ago, in this same turn.
      const results = await withTimeout(addJobs(...args), timeoutMs);
      for (const [i, job] of batch.entries()) {
        job.resolve(results[i] === 1 ? 'added' : 'exists');
      }
    } catch (error) {
      for (const job of batch) {
        job.reject(
          new QueueUnavailableError(`redis did not take the job: ${(error as Error).message}`, { cause: error }),
        );
      }
    }
  };

  const flush = () => {
    flushScheduled = false;
    const batch = pending;
    pending = [];
    for (let start = 0; start < batch.length; start += maxBatch) {
      const written = write(batch.slice(start, start + maxBatch));
      inFlight.add(written);
      void written.finally(() => inFlight.delete(written));
    }
  };

  return {
    enqueue(data, jobId) {
      // Fail at once while disconnected, rather than queue up behind a reconnect.
      if (connection.status !== 'ready') {
        return Promise.reject(new QueueUnavailableError(`redis connection is ${connection.status}`));
      }
      if (!SAFE_JOB_ID.test(jobId)) {
        return Promise.reject(new Error(`job id ${JSON.stringify(jobId)} is not a message key`));
      }
      const added = new Promise<EnqueueOutcome>((resolve, reject) => {
        pending.push({ jobId, data: JSON.stringify(data), resolve, reject });
      });
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
      return added;
    },
    async ping() {
      await connection.ping();
    },
    async close() {
      if (pending.length > 0) {
        flush();
      }
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** The job options as BullMQ stores them (JSON), open at the end for each job's own id. */
function optionsHead(options: JobsOptions): string {
  const json = JSON.stringify({ ...options, jobId: '' });
  return json.slice(0, json.length - 2);
}

// The write may still land after the timeout; that is safe, the job id makes a repeat a no-op.
async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  // A write that settles after the timeout answered has nobody waiting for it any more.
  promise.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new QueueUnavailableError(`redis did not take the job within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
