import type { BackoffStrategy, JobsOptions } from 'bullmq';

/** The backoff type our jobs ask for; workers implement it with `cappedExponentialBackoff`. */
export const BACKOFF_TYPE = 'capped-exponential';

export interface RetryPolicy {
  /** Total tries, the first included. */
  readonly attempts: number;
  /** Delay before the first retry; it doubles each time up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * 20 tries, 1 s doubling to a 5 min cap: a sink outage shorter than the retry horizon
 * (`retryHorizonMs`: 29 min with the shortest jitter draws) delays messages but fails none.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 20, baseDelayMs: 1000, maxDelayMs: 300_000 };

export interface RetentionPolicy {
  /** Completed jobs are kept this long (and at most `completedCount` of them) for inspection. */
  readonly completedAgeSeconds: number;
  readonly completedCount: number;
  /** Failed jobs wait this long for someone to look at them and retry. */
  readonly failedAgeSeconds: number;
  readonly failedCount: number;
}

export const DEFAULT_RETENTION_POLICY: RetentionPolicy = {
  completedAgeSeconds: 3600,
  completedCount: 10_000,
  failedAgeSeconds: 14 * 24 * 3600,
  failedCount: 100_000,
};

/** What the producer puts on each job; the cap on the delay is the worker's (`cappedExponentialBackoff`). */
export type JobRetryOptions = Pick<RetryPolicy, 'attempts' | 'baseDelayMs'>;

/** The options of every ingest job: retries with the worker's capped backoff, and how long jobs are kept. */
export function ingestJobOptions(retry: JobRetryOptions, retention: RetentionPolicy): JobsOptions {
  return {
    attempts: retry.attempts,
    backoff: { type: BACKOFF_TYPE, delay: retry.baseDelayMs },
    removeOnComplete: { age: retention.completedAgeSeconds, count: retention.completedCount },
    removeOnFail: { age: retention.failedAgeSeconds, count: retention.failedCount },
  };
}

/** Delay before retry number `attemptsMade`: doubling, capped, with "equal jitter" (half fixed, half random). */
export function backoffDelay(attemptsMade: number, baseDelayMs: number, maxDelayMs: number, random = Math.random) {
  const exponential = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** The shortest time a job keeps retrying before it fails for good (every jitter draw at its minimum). */
export function retryHorizonMs(policy: RetryPolicy): number {
  let total = 0;
  for (let attempt = 1; attempt < policy.attempts; attempt++) {
    total += backoffDelay(attempt, policy.baseDelayMs, policy.maxDelayMs, () => 0);
  }
  return total;
}

/** The worker side of `BACKOFF_TYPE`: the job carries the base delay, the worker owns the cap. */
export function cappedExponentialBackoff(maxDelayMs: number): BackoffStrategy {
  return (attemptsMade, type, _error, job) => {
    if (type !== BACKOFF_TYPE) {
      throw new Error(`unknown backoff type ${type}`);
    }
    const backoff = job?.opts.backoff;
    const base = typeof backoff === 'object' && backoff.delay !== undefined ? backoff.delay : 1000;
    return backoffDelay(attemptsMade, base, maxDelayMs);
  };
}
