/**
 * The longest `Retry-After` honoured: waiting does not spend an attempt, so an unbounded value
 * (or a date years ahead, by mistake) would park the event indefinitely without it ever failing.
 * A longer wait is cut to this; the destination is then asked again, and may ask again.
 */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;
/** The shortest: `Retry-After: 0` (or a date already past) must not become a loop of free retries. */
export const MIN_RETRY_AFTER_MS = 1000;

/**
 * A `Retry-After` header (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) as milliseconds from
 * `now`, between MIN_RETRY_AFTER_MS and MAX_RETRY_AFTER_MS; `undefined` when absent or not one
 * of those two forms (the retry then follows the schedule and spends an attempt).
 */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  const text = value?.trim() ?? '';
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else if (/[a-z]/i.test(text) && /\d{2,4}/.test(text)) {
    // IMF-fixdate, or the obsolete RFC 850 and asctime forms recipients must still accept: the
    // letter-and-year test keeps Date.parse from reading a bare "5" or "1.5" as a date.
    const date = Date.parse(text);
    if (Number.isNaN(date)) {
      return undefined;
    }
    ms = date - now.getTime();
  } else {
    return undefined;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, ms));
}
