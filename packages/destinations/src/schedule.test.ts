import { expect, test } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE, retryDelayMs } from './index.js';
import { parseRetrySchedule } from './schedule.js';

const [s, m, h] = [1000, 60_000, 3_600_000];

test('the Standard Webhooks schedule: now, 5 s, 5 min, 30 min, 2, 5, 10, 14, 20, 24 h; then none left', () => {
  const middle = () => 0.5;
  expect(DEFAULT_RETRY_SCHEDULE.map((_, n) => retryDelayMs(n, undefined, middle))).toEqual([
    0,
    5 * s,
    5 * m,
    30 * m,
    2 * h,
    5 * h,
    10 * h,
    14 * h,
    20 * h,
    24 * h,
  ]);
  expect(retryDelayMs(10)).toBeUndefined();
  expect(retryDelayMs(-1)).toBeUndefined();
  expect(retryDelayMs(1.5)).toBeUndefined();
});

test('jitter: ±20 % at the extremes of random, 0 stays 0', () => {
  expect(retryDelayMs(2, undefined, () => 0)).toBe(4 * m);
  expect(retryDelayMs(2, undefined, () => 0.999_999_999)).toBe(6 * m);
  expect(retryDelayMs(0, undefined, () => 0)).toBe(0);
  const spread = new Set(Array.from({ length: 50 }, () => retryDelayMs(1)));
  expect(spread.size).toBeGreaterThan(1);
  for (const delay of spread) {
    expect(delay).toBeGreaterThanOrEqual(4 * s);
    expect(delay).toBeLessThanOrEqual(6 * s);
  }
});

test('a configured schedule, as text or as a list', () => {
  expect(parseRetrySchedule('0,5s,5m,30m,2h')).toEqual([0, 5 * s, 5 * m, 30 * m, 2 * h]);
  expect(parseRetrySchedule(' 0 , 250ms, 1.5s, 1d ')).toEqual([0, 250, 1500, 24 * h]);
  expect(parseRetrySchedule(['0', '10s'])).toEqual([0, 10 * s]);
  expect(retryDelayMs(1, parseRetrySchedule('0,10s'), () => 0.5)).toBe(10 * s);
  expect(retryDelayMs(2, parseRetrySchedule('0,10s'))).toBeUndefined();
});

test('bad schedules say what is wrong', () => {
  expect(() => parseRetrySchedule('')).toThrow('at least one wait');
  expect(() => parseRetrySchedule([])).toThrow('at least one wait');
  expect(() => parseRetrySchedule('0,5')).toThrow('"5" is not a wait like');
  expect(() => parseRetrySchedule('0,5 s')).toThrow('"5 s" is not a wait');
  expect(() => parseRetrySchedule('0,-5s')).toThrow('"-5s"');
  expect(() => parseRetrySchedule('0,,5s')).toThrow('"" is not a wait');
  expect(() => parseRetrySchedule('8d')).toThrow('longer than 7 days');
  expect(() => parseRetrySchedule(Array(101).fill('1s'))).toThrow('at most 100');
});
