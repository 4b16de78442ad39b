import { expect, test } from 'vitest';
import { createRateLimiter } from './rate-limit.js';

const MINUTE = 60_000;

function limiter(limit: number) {
  const clock = { now: 1_000_000 };
  return { clock, limits: createRateLimiter({ limit, windowMs: 15 * MINUTE, now: () => clock.now }) };
}

test('under the limit nothing waits; at the limit the wait lasts until the oldest event leaves the window', () => {
  const { clock, limits } = limiter(3);
  for (let i = 0; i < 3; i++) {
    expect(limits.blockedForSeconds('a')).toBe(0);
    limits.hit('a');
    clock.now += MINUTE;
  }
  // Three events at 0, 1 and 2 min; now 3 min: the first leaves the window at 15 min.
  expect(limits.blockedForSeconds('a')).toBe(12 * 60);
  clock.now += 12 * MINUTE - 1000;
  expect(limits.blockedForSeconds('a')).toBe(1);
  clock.now += 1000;
  expect(limits.blockedForSeconds('a')).toBe(0);
  // One slot came free, not three: the window slides.
  limits.hit('a');
  expect(limits.blockedForSeconds('a')).toBe(60);
});

test('keys are counted apart', () => {
  const { limits } = limiter(2);
  limits.hit('a');
  limits.hit('a');
  expect(limits.blockedForSeconds('a')).toBeGreaterThan(0);
  expect(limits.blockedForSeconds('b')).toBe(0);
});

test('a burst at the edge of a window cannot double the limit', () => {
  const { clock, limits } = limiter(5);
  clock.now += 15 * MINUTE - 1000;
  for (let i = 0; i < 5; i++) {
    limits.hit('a');
  }
  // A fixed 15-minute window would start afresh here and allow five more.
  clock.now += 2000;
  expect(limits.blockedForSeconds('a')).toBe(15 * 60 - 2);
});
