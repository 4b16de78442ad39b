import { inflateSync } from 'node:zlib';
import { expect, test } from 'vitest';
import { genUserSig, verifyUserSig } from './index.js';

// The spec's vector (§2): computed independently with Node crypto and Python hmac.
const VECTOR = {
  sdkAppId: '1400000000',
  secretKey: '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e',
  identifier: 'administrator',
  expireSeconds: 86400,
  now: new Date(1_700_000_000 * 1000),
};

function inflate(token: string): unknown {
  const base64 = token.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  return JSON.parse(inflateSync(Buffer.from(base64, 'base64')).toString('utf8'));
}

test('the spec vector: the inflated document, whatever deflate produced', () => {
  const token = genUserSig(VECTOR);
  expect(token).toMatch(/^[A-Za-z0-9*_-]+$/);
  expect(inflate(token)).toEqual({
    'TLS.ver': '2.0',
    'TLS.identifier': 'administrator',
    'TLS.sdkappid': 1400000000,
    'TLS.time': 1700000000,
    'TLS.expire': 86400,
    'TLS.sig': 'yLAe+w7WUeUuqbV9h/TX78u21oTGi+i9Zp1u3PpnY60=',
  });
});

test('time is whole seconds; a bad SDKAppID or lifetime throws', () => {
  const token = genUserSig({ ...VECTOR, now: new Date(1_700_000_000_999) });
  expect(inflate(token)).toMatchObject({ 'TLS.time': 1700000000 });
  expect(() => genUserSig({ ...VECTOR, sdkAppId: '14000x' })).toThrow('SDKAppID');
  expect(() => genUserSig({ ...VECTOR, expireSeconds: 0 })).toThrow('expireSeconds');
  expect(() => genUserSig({ ...VECTOR, expireSeconds: 1.5 })).toThrow('expireSeconds');
});

test('verify: the identifier until time + expire, then expired', () => {
  const token = genUserSig(VECTOR);
  const check = (seconds: number) =>
    verifyUserSig(token, { sdkAppId: VECTOR.sdkAppId, secretKey: VECTOR.secretKey, now: new Date(seconds * 1000) });
  expect(check(1_700_000_000)).toEqual({
    ok: true,
    identifier: 'administrator',
    expiresAt: new Date((1_700_000_000 + 86_400) * 1000),
  });
  // Tencent's Go verifier: expired when now > time + expire.
  expect(check(1_700_086_400)).toMatchObject({ ok: true });
  expect(check(1_700_086_401)).toEqual({ ok: false, reason: 'expired' });
});

test('verify: another key, another app, a tampered or garbled token', () => {
  const token = genUserSig(VECTOR);
  const options = { sdkAppId: VECTOR.sdkAppId, secretKey: VECTOR.secretKey, now: VECTOR.now };
  expect(verifyUserSig(token, { ...options, secretKey: 'another key' })).toEqual({
    ok: false,
    reason: 'bad_signature',
  });
  expect(verifyUserSig(token, { ...options, sdkAppId: '1400000001' })).toEqual({ ok: false, reason: 'wrong_app' });
  const forged = genUserSig({ ...VECTOR, identifier: 'mallory', secretKey: 'not the key' });
  expect(verifyUserSig(forged, options)).toEqual({ ok: false, reason: 'bad_signature' });
  expect(verifyUserSig('not a token', options)).toEqual({ ok: false, reason: 'malformed' });
  expect(verifyUserSig('', options)).toEqual({ ok: false, reason: 'malformed' });
});
