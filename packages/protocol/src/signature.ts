import { createHash, timingSafeEqual } from 'node:crypto';

/** Tencent's anti-replay window: a `RequestTime` more than a minute off is invalid. */
export const DEFAULT_SIGNATURE_WINDOW_SECONDS = 60;

const REQUEST_TIME = /^\d{1,12}$/;
const SIGN = /^[0-9a-fA-F]{64}$/;

/** `Sign` as Tencent computes it: lowercase hex SHA-256 of `token + RequestTime`, no separator, no HMAC. */
export function computeSign(token: string, requestTime: string | number): string {
  return createHash('sha256').update(`${token}${requestTime}`, 'utf8').digest('hex');
}

export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';
export type SignatureResult = { ok: true } | { ok: false; reason: SignatureFailure };

export interface SignatureVerifierOptions {
  /** Every token this app accepts: more than one while a rotation is under way. */
  tokens: readonly string[];
  windowSeconds?: number;
  /** Milliseconds since the epoch; injectable so tests control the clock. */
  now?: () => number;
}

export type SignatureVerifier = (sign: string | undefined, requestTime: string | undefined) => SignatureResult;

/**
 * Builds a verifier for one app's tokens. Every callback sent within the same second carries the
 * same `Sign`, so the expected digests of the last second seen are cached. Each token is compared
 * in constant time, and all of them always are, so the time taken tells nothing of which matched.
 */
export function createSignatureVerifier(options: SignatureVerifierOptions): SignatureVerifier {
  if (options.tokens.length === 0) {
    throw new Error('a signature verifier needs at least one token');
  }
  const window = options.windowSeconds ?? DEFAULT_SIGNATURE_WINDOW_SECONDS;
  const now = options.now ?? Date.now;
  let cachedTime = '';
  let cachedDigests: Buffer[] = [];

  return (sign, requestTime) => {
    if (sign === undefined || requestTime === undefined) {
      return { ok: false, reason: 'missing' };
    }
    if (!REQUEST_TIME.test(requestTime) || !SIGN.test(sign)) {
      return { ok: false, reason: 'malformed' };
    }
    // Written so that a NaN clock or window fails closed.
    if (!(Math.abs(now() / 1000 - Number(requestTime)) <= window)) {
      return { ok: false, reason: 'stale' };
    }
    if (requestTime !== cachedTime) {
      cachedDigests = options.tokens.map((token) => Buffer.from(computeSign(token, requestTime), 'hex'));
      cachedTime = requestTime;
    }
    // Both sides are 32 bytes here (the regex fixed the length), so each comparison is constant-time.
    const given = Buffer.from(sign, 'hex');
    let matched = false;
    for (const digest of cachedDigests) {
      matched = timingSafeEqual(digest, given) || matched;
    }
    return matched ? { ok: true } : { ok: false, reason: 'mismatch' };
  };
}
