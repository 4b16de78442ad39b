export interface ThrottleOptions {
  /** The next N calls are refused. */
  readonly forCalls?: number;
  /** From now on, every Nth call is refused (the Nth, the 2Nth…). */
  readonly everyNth?: number;
  /** Calls over this many within any second (by the fake's clock) are refused. */
  readonly perSecond?: number;
  /** The ErrorCode refusals carry: 60018 (too frequent) unless given; 60007, 60011, 60019 too. */
  readonly code?: number;
}

const DEFAULT_THROTTLE_CODE = 60018;

/**
 * Decides which calls the fake refuses as over Tencent's rate limit. Each rule set by `set`
 * replaces the last; `set()` with nothing lifts them all.
 */
export function createThrottle(now: () => Date) {
  let rules: ThrottleOptions = {};
  let seen = 0;
  let refusedSoFar = 0;
  let accepted: number[] = [];

  return {
    set(options: ThrottleOptions = {}): void {
      for (const [name, value] of Object.entries(options)) {
        if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
          throw new Error(`fake Tencent: throttle ${name} must be a whole number ≥ 0`);
        }
      }
      rules = options;
      seen = 0;
      refusedSoFar = 0;
      accepted = [];
    },

    /** The ErrorCode to refuse this call with, or undefined to let it through. */
    check(): number | undefined {
      seen += 1;
      const code = rules.code ?? DEFAULT_THROTTLE_CODE;
      if (rules.forCalls !== undefined && refusedSoFar < rules.forCalls) {
        refusedSoFar += 1;
        return code;
      }
      if (rules.everyNth !== undefined && rules.everyNth > 0 && seen % rules.everyNth === 0) {
        return code;
      }
      if (rules.perSecond !== undefined) {
        const ms = now().getTime();
        accepted = accepted.filter((at) => at > ms - 1000);
        if (accepted.length >= rules.perSecond) {
          return code;
        }
        accepted.push(ms);
      }
      return undefined;
    },
  };
}
