import { expect, test, vi } from 'vitest';
import { DeadlineError, withDeadline } from './deadline.js';

test('the value when in time, a DeadlineError when not, and the timer cleared either way', async () => {
  vi.useFakeTimers();
  try {
    await expect(withDeadline(Promise.resolve(7), 100, 'late')).resolves.toBe(7);
    expect(vi.getTimerCount()).toBe(0);
    const never = new Promise<number>(() => {});
    const late = withDeadline(never, 100, 'no answer within 100 ms');
    vi.advanceTimersByTime(100);
    await expect(late).rejects.toEqual(new DeadlineError('no answer within 100 ms'));
    expect(vi.getTimerCount()).toBe(0);
  } finally {
    vi.useRealTimers();
  }
});

test('a rejection after the deadline is not an unhandled rejection', async () => {
  let fail: (error: Error) => void = () => {};
  const slow = new Promise<number>((_, reject) => {
    fail = reject;
  });
  await expect(withDeadline(slow, 5, 'late')).rejects.toThrow('late');
  fail(new Error('too late to matter'));
  await new Promise((resolve) => setImmediate(resolve));
});
