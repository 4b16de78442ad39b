import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';

// Tencent's TLSSigAPIv2 (tencentyun/tls-sig-api-v2-node, spec §2), inline: it is a few lines of
// node:crypto and node:zlib, and the npm package is plain JS with no types.

export interface UserSigOptions {
  /** The SDKAppID, as digits (what TIM_SDK_APP_ID holds); the token carries it as a JSON number. */
  readonly sdkAppId: string;
  /** The app's key from the Chat console. */
  readonly secretKey: string;
  /** The account the token signs in: here always the app admin. */
  readonly identifier: string;
  /** How long the token is valid after `now` (Tencent's `TLS.expire`). */
  readonly expireSeconds: number;
  /** The token's `TLS.time` (whole seconds). */
  readonly now: Date;
}

/** The signed lines, in Tencent's order, each ending with `\n`. */
function signedText(identifier: string, sdkAppId: number, time: number, expire: number): string {
  return `TLS.identifier:${identifier}\nTLS.sdkappid:${sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
}

function hmac(secretKey: string, text: string): string {
  return createHmac('sha256', secretKey).update(text, 'utf8').digest('base64');
}

function appIdNumber(sdkAppId: string): number {
  const id = Number(sdkAppId);
  if (!/^[1-9]\d*$/.test(sdkAppId) || !Number.isSafeInteger(id)) {
    throw new Error('the SDKAppID must be digits that fit a JSON number');
  }
  return id;
}

/**
 * A UserSig (Tencent's login token) for `identifier`: the JSON document with its HMAC-SHA256
 * signature, zlib-deflated, base64 with `+/=` replaced by `*-_`. Deflate output differs between
 * zlib builds, so two correct implementations may produce different tokens for the same input;
 * Tencent only checks the inflated document.
 */
export function genUserSig(options: UserSigOptions): string {
  const sdkAppId = appIdNumber(options.sdkAppId);
  const time = Math.floor(options.now.getTime() / 1000);
  const expire = options.expireSeconds;
  if (!Number.isSafeInteger(expire) || expire <= 0) {
    throw new Error('expireSeconds must be a positive integer');
  }
  const document = {
    'TLS.ver': '2.0',
    'TLS.identifier': options.identifier,
    'TLS.sdkappid': sdkAppId,
    'TLS.time': time,
    'TLS.expire': expire,
    'TLS.sig': hmac(options.secretKey, signedText(options.identifier, sdkAppId, time, expire)),
  };
  return deflateSync(Buffer.from(JSON.stringify(document), 'utf8'))
    .toString('base64')
    .replace(/\+/g, '*')
    .replace(/\//g, '-')
    .replace(/=/g, '_');
}

export type UserSigVerdict =
  | { readonly ok: true; readonly identifier: string; readonly expiresAt: Date }
  | { readonly ok: false; readonly reason: 'malformed' | 'wrong_app' | 'bad_signature' | 'expired' };

export interface VerifyUserSigOptions {
  readonly sdkAppId: string;
  readonly secretKey: string;
  readonly now: Date;
}

/**
 * Checks a UserSig the way Tencent's verifiers do (tls-sig-api-v2-golang): the document inflates
 * and parses, names this SDKAppID, its signature matches, and `now` is not past time + expire.
 * Used by the fake Tencent API; never throws.
 */
export function verifyUserSig(token: string, options: VerifyUserSigOptions): UserSigVerdict {
  let document: Record<string, unknown>;
  try {
    const base64 = token.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
    const parsed: unknown = JSON.parse(inflateSync(Buffer.from(base64, 'base64')).toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return { ok: false, reason: 'malformed' };
    }
    document = parsed as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const identifier = document['TLS.identifier'];
  const sdkAppId = document['TLS.sdkappid'];
  const time = document['TLS.time'];
  const expire = document['TLS.expire'];
  const sig = document['TLS.sig'];
  if (
    typeof identifier !== 'string' ||
    typeof sdkAppId !== 'number' ||
    !Number.isSafeInteger(time) ||
    !Number.isSafeInteger(expire) ||
    typeof sig !== 'string'
  ) {
    return { ok: false, reason: 'malformed' };
  }
  if (String(sdkAppId) !== options.sdkAppId) {
    return { ok: false, reason: 'wrong_app' };
  }
  const expected = Buffer.from(
    hmac(options.secretKey, signedText(identifier, sdkAppId, time as number, expire as number)),
  );
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad_signature' };
  }
  const expiresAtSeconds = (time as number) + (expire as number);
  if (Math.floor(options.now.getTime() / 1000) > expiresAtSeconds) {
    return { ok: false, reason: 'expired' };
  }
  return { ok: true, identifier, expiresAt: new Date(expiresAtSeconds * 1000) };
}
