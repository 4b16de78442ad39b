import { expect, test } from 'vitest';
import { MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS, parseRetryAfter } from './retry-after.js';

const now = new Date('2026-12-01T08:30:00.000Z');

test('delay-seconds and HTTP-dates (all three forms), from now', () => {
  expect(parseRetryAfter('2', now)).toBe(2000);
  expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
  expect(parseRetryAfter('Tue, 01 Dec 2026 08:30:30 GMT', now)).toBe(30_000);
  expect(parseRetryAfter('Tuesday, 01-Dec-26 08:31:00 GMT', now)).toBe(60_000);
  expect(parseRetryAfter('Tue Dec  1 08:30:45 2026', now)).toBe(45_000);
});

test('bounded: at least 1 s (no loop of free retries), at most 1 h (no event parked for ever)', () => {
  expect(parseRetryAfter('0', now)).toBe(MIN_RETRY_AFTER_MS);
  expect(parseRetryAfter('Tue, 01 Dec 2026 08:00:00 GMT', now)).toBe(MIN_RETRY_AFTER_MS);
  expect(parseRetryAfter('86400', now)).toBe(MAX_RETRY_AFTER_MS);
  expect(parseRetryAfter('Fri, 01 Dec 2028 08:30:00 GMT', now)).toBe(MAX_RETRY_AFTER_MS);
  expect(MAX_RETRY_AFTER_MS).toBe(3_600_000);
});

test('anything else is no Retry-After', () => {
  for (const value of [null, '', '-1', '1.5', '5s', 'soon', 'Tue, 99 Foo 2026 99:99:99 GMT', '5 minutes']) {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  }
});
