const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The Standard Webhooks retry schedule: entry `n` is the wait before attempt `n + 1`, so the
 * first attempt goes now and the last one about three days after the event. Its length is the
 * number of attempts: after the last one fails, the delivery fails for good.
 */
export const DEFAULT_RETRY_SCHEDULE: readonly number[] = Object.freeze([
  0,
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  14 * HOUR,
  20 * HOUR,
  24 * HOUR,
]);

/**
 * ±20 %: enough that the retries of a burst that failed together (a destination down for a
 * minute) do not all come back in the same second, and small enough to keep the schedule's shape.
 */
const JITTER = 0.2;

/**
 * The wait before the next attempt once `attemptsMade` attempts failed (BullMQ's
 * `job.attemptsMade` in a backoff strategy), with jitter; `undefined` once the schedule is used
 * up (no attempt left). `random` returns [0, 1) like Math.random (tests pass a fixed one).
 */
export function retryDelayMs(
  attemptsMade: number,
  schedule: readonly number[] = DEFAULT_RETRY_SCHEDULE,
  random: () => number = Math.random,
): number | undefined {
  const base = schedule[attemptsMade];
  if (base === undefined || !Number.isInteger(attemptsMade) || attemptsMade < 0) {
    return undefined;
  }
  return Math.round(base * (1 + (random() * 2 - 1) * JITTER));
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY };
const ENTRY = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
/** More than this is a typo: nobody waits a month between two attempts, or makes 100 of them. */
const MAX_DELAY = 7 * DAY;
const MAX_ENTRIES = 100;

/**
 * A configured schedule: comma-separated waits with a unit (`ms`, `s`, `m`, `h`, `d`; a bare
 * `0` needs none), e.g. `"0,5s,5m,30m,2h"`, or the same entries as a list. Throws an Error whose
 * message says what is wrong (it quotes only the bad entry).
 */
export function parseRetrySchedule(text: string | readonly string[]): readonly number[] {
  const entries = (typeof text === 'string' ? text.split(',') : text).map((entry) => entry.trim());
  if (entries.length === 0 || (entries.length === 1 && entries[0] === '')) {
    throw new Error('must list at least one wait, e.g. "0,5s,5m,30m,2h"');
  }
  if (entries.length > MAX_ENTRIES) {
    throw new Error(`must list at most ${MAX_ENTRIES} waits`);
  }
  return Object.freeze(
    entries.map((entry) => {
      if (entry === '0') {
        return 0;
      }
      const match = ENTRY.exec(entry);
      const unit = match?.[2] === undefined ? undefined : UNITS[match[2]];
      if (!match || unit === undefined) {
        throw new Error(`${JSON.stringify(entry)} is not a wait like 500ms, 5s, 5m, 2h or 1d`);
      }
      const ms = Math.round(Number(match[1]) * unit);
      if (ms > MAX_DELAY) {
        throw new Error(`${JSON.stringify(entry)} is longer than 7 days`);
      }
      return ms;
    }),
  );
}
