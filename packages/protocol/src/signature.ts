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
  token: string;
  windowSeconds?: number;
  /** Milliseconds since the epoch; injectable so tests control the clock. */
  now?: () => number;
}

export type SignatureVerifier = (sign: string | undefined, requestTime: string | undefined) => SignatureResult;

/**
 * Builds a verifier for one token. Every callback sent within the same second carries the same
 * `Sign`, so the expected digest of the last second seen is cached.
 */
export function createSignatureVerifier(options: SignatureVerifierOptions): SignatureVerifier {
  const window = options.windowSeconds ?? DEFAULT_SIGNATURE_WINDOW_SECONDS;
  const now = options.now ?? Date.now;
  let cachedTime = '';
  let cachedDigest = Buffer.alloc(0);

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
      cachedDigest = Buffer.from(computeSign(options.token, requestTime), 'hex');
      cachedTime = requestTime;
    }
    // Both sides are 32 bytes here (the regex fixed the length), so the comparison is constant-time.
    return timingSafeEqual(cachedDigest, Buffer.from(sign, 'hex')) ? { ok: true } : { ok: false, reason: 'mismatch' };
  };
}
