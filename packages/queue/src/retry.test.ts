import { describe, expect, test } from 'vitest';
import {
  BACKOFF_TYPE,
  backoffDelay,
  cappedExponentialBackoff,
  DEFAULT_RETENTION_POLICY,
  DEFAULT_RETRY_POLICY,
  ingestJobOptions,
  retryHorizonMs,
} from './retry.js';

describe('backoffDelay', () => {
  test('doubles from the base delay up to the cap', () => {
    const max = (n: number) => backoffDelay(n, 1000, 8000, () => 1);
    expect([1, 2, 3, 4, 5, 10].map(max)).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  test('jitter keeps at least half of the delay and never exceeds it', () => {
    expect(backoffDelay(3, 1000, 60_000, () => 0)).toBe(2000);
    expect(backoffDelay(3, 1000, 60_000, () => 0.5)).toBe(3000);
    expect(backoffDelay(3, 1000, 60_000, () => 0.999999)).toBe(4000);
  });
});

test('the default policy retries through a sink outage of close to half an hour', () => {
  const horizon = retryHorizonMs(DEFAULT_RETRY_POLICY);
  expect(horizon).toBeGreaterThan(25 * 60_000);
  expect(horizon).toBeLessThan(35 * 60_000);
});

test('job options carry attempts, our backoff type and bounded retention', () => {
  const options = ingestJobOptions({ attempts: 7, baseDelayMs: 250 }, DEFAULT_RETENTION_POLICY);
  expect(options).toMatchObject({
    attempts: 7,
    backoff: { type: BACKOFF_TYPE, delay: 250 },
    removeOnComplete: { age: expect.any(Number), count: expect.any(Number) },
    removeOnFail: { age: expect.any(Number), count: expect.any(Number) },
  });
});

test('the worker strategy reads the base delay from the job and applies its own cap', async () => {
  const strategy = cappedExponentialBackoff(5000);
  const job = { opts: { backoff: { type: BACKOFF_TYPE, delay: 1000 } } } as Parameters<typeof strategy>[3];
  const delay = await strategy(10, BACKOFF_TYPE, undefined, job);
  expect(delay).toBeGreaterThanOrEqual(2500);
  expect(delay).toBeLessThanOrEqual(5000);
  expect(() => strategy(1, 'other', undefined, job)).toThrow(/unknown backoff/);
});
