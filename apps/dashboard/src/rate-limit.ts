export interface RateLimiter {
  /** Whole seconds until `key` is under its limit again; 0 while it is under it now. */
  blockedForSeconds(key: string): number;
  /** Counts one event for `key`. */
  hit(key: string): void;
}

export interface RateLimiterOptions {
  /** Events allowed per key in any window. */
  limit: number;
  windowMs: number;
  now?: () => number;
}

/**
 * At most `limit` events per key in any `windowMs` (a sliding window: a burst at the edge of a
 * fixed window cannot double it). In memory, which is enough for one dashboard process; a key
 * keeps at most `limit` timestamps, and keys whose events all expired are dropped.
 */
export function createRateLimiter({ limit, windowMs, now = () => Date.now() }: RateLimiterOptions): RateLimiter {
  const events = new Map<string, number[]>();

  /** The key's events still inside the window, oldest first. */
  const live = (key: string, at: number): number[] => {
    const kept = (events.get(key) ?? []).filter((time) => time > at - windowMs);
    if (kept.length > 0) {
      events.set(key, kept);
    } else {
      events.delete(key);
    }
    return kept;
  };

  return {
    blockedForSeconds(key) {
      const at = now();
      const times = live(key, at);
      if (times.length < limit) {
        return 0;
      }
      // The window slides below the limit once the oldest event that counts leaves it.
      const oldest = times[times.length - limit] ?? at;
      return Math.max(1, Math.ceil((oldest + windowMs - at) / 1000));
    },
    hit(key) {
      const at = now();
      const times = [...live(key, at), at].slice(-limit);
      events.set(key, times);
      // Many addresses failing once each must not grow the map without end.
      if (events.size > 10_000) {
        for (const other of [...events.keys()]) {
          live(other, at);
        }
      }
    },
  };
}
