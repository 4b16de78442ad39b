import { describe, expect, test } from 'vitest';
import { computeSign, createSignatureVerifier, DEFAULT_SIGNATURE_WINDOW_SECONDS } from './signature.js';

// Both vectors come from the spec (§2); the first is Tencent's own documented example.
const DOC_TOKEN = 'xxxxyyyy';
const DOC_TIME = '1669872112';
const DOC_SIGN = '17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061';
const TOKEN = 'k3m9-ChatCb-Token-2026';
const TIME = 1767225600;
const SIGN = '4863423ecf537d46bfcdd8aacbcd1ca6edaea238c0be078f3bd5eed3173b53d9';

/** A verifier for TOKEN whose clock the test sets, in seconds (fractions allowed). */
function verifierAt(seconds: number, windowSeconds?: number) {
  const clock = { seconds };
  const verify = createSignatureVerifier({ tokens: [TOKEN], windowSeconds, now: () => clock.seconds * 1000 });
  return { clock, verify };
}

describe('computeSign', () => {
  test.each([
    [DOC_TOKEN, DOC_TIME, DOC_SIGN],
    [DOC_TOKEN, Number(DOC_TIME), DOC_SIGN],
    [TOKEN, String(TIME), SIGN],
    [TOKEN, TIME, SIGN],
  ])('token %s + %o gives the spec vector', (token, time, sign) => {
    expect(computeSign(token, time)).toBe(sign);
  });

  test('hashes the token as UTF-8', () => {
    // sha256("é1") over UTF-8 bytes c3 a9 31; a Latin-1 hash would differ.
    expect(computeSign('é', 1)).toBe('f382f97c038d14a602155955e2ba3ef5ccbb65114f7aa0cc3a61e598d80e19cb');
  });
});

describe('createSignatureVerifier: accepted', () => {
  test('the spec vector at its own second', () => {
    expect(verifierAt(TIME).verify(SIGN, String(TIME))).toEqual({ ok: true });
  });

  test.each([-60, -1, 0, 1, 59.999, 60])('clock %o s from RequestTime is inside the window', (offset) => {
    expect(verifierAt(TIME + offset).verify(SIGN, String(TIME))).toEqual({ ok: true });
  });

  // Tencent documents lowercase hex; an uppercase spelling of the same digest is accepted too.
  test('uppercase hex of the right digest', () => {
    expect(verifierAt(TIME).verify(SIGN.toUpperCase(), String(TIME))).toEqual({ ok: true });
  });

  test('the real clock is used when none is injected', () => {
    const verify = createSignatureVerifier({ tokens: [TOKEN] });
    const time = String(Math.floor(Date.now() / 1000));
    expect(verify(computeSign(TOKEN, time), time)).toEqual({ ok: true });
  });

  test('the default window is 60 seconds', () => {
    expect(DEFAULT_SIGNATURE_WINDOW_SECONDS).toBe(60);
  });
});

describe('createSignatureVerifier: rejected', () => {
  test.each([61, -61, 60.001, -60.001, 86_400, -TIME])('clock %o s from RequestTime is stale', (offset) => {
    expect(verifierAt(TIME + offset).verify(SIGN, String(TIME))).toEqual({ ok: false, reason: 'stale' });
  });

  test('a custom window replaces the default', () => {
    expect(verifierAt(TIME + 5, 5).verify(SIGN, String(TIME))).toEqual({ ok: true });
    expect(verifierAt(TIME + 6, 5).verify(SIGN, String(TIME))).toEqual({ ok: false, reason: 'stale' });
    expect(verifierAt(TIME + 61, 120).verify(SIGN, String(TIME))).toEqual({ ok: true });
  });

  test.each([
    [undefined, String(TIME)],
    [SIGN, undefined],
    [undefined, undefined],
  ])('Sign %o with RequestTime %o is missing', (sign, time) => {
    expect(verifierAt(TIME).verify(sign, time)).toEqual({ ok: false, reason: 'missing' });
  });

  test.each([
    ['empty', ''],
    ['-1', '-1'],
    ['non-digit', '17672256OO'],
    ['decimal', '1767225600.0'],
    ['leading space', ' 1767225600'],
    ['exponent', '1.7672256e9'],
    ['fullwidth digits', '１７６７２２５６００'],
    ['13 digits (milliseconds)', '1767225600000'],
  ])('RequestTime %s is malformed', (_label, time) => {
    expect(verifierAt(TIME).verify(SIGN, time)).toEqual({ ok: false, reason: 'malformed' });
  });

  // timingSafeEqual throws on unequal lengths; these must come back as a result, never throw.
  test.each([
    ['empty', ''],
    ['63 chars', SIGN.slice(0, 63)],
    ['65 chars', `${SIGN}0`],
    ['non-hex last char', `${SIGN.slice(0, 63)}g`],
    ['base64 of the digest', Buffer.from(SIGN, 'hex').toString('base64')],
    ['surrounding space', ` ${SIGN.slice(1)}`],
  ])('Sign %s is malformed', (_label, sign) => {
    const { verify } = verifierAt(TIME);
    expect(() => verify(sign, String(TIME))).not.toThrow();
    expect(verify(sign, String(TIME))).toEqual({ ok: false, reason: 'malformed' });
  });

  test('the right time signed with another token is a mismatch', () => {
    expect(verifierAt(TIME).verify(computeSign('other-token', TIME), String(TIME))).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  test('a digest differing in one hex digit is a mismatch', () => {
    const flipped = `${SIGN.slice(0, 63)}${SIGN.endsWith('9') ? '8' : '9'}`;
    expect(verifierAt(TIME).verify(flipped, String(TIME))).toEqual({ ok: false, reason: 'mismatch' });
  });

  // Tencent signs RequestTime as sent; "0…" is the same instant but a different signed text.
  test('a zero-padded RequestTime with the unpadded sign is a mismatch', () => {
    expect(verifierAt(TIME).verify(SIGN, `0${TIME}`)).toEqual({ ok: false, reason: 'mismatch' });
  });

  test('staleness is reported before a wrong digest', () => {
    expect(verifierAt(TIME + 61).verify('0'.repeat(64), String(TIME))).toEqual({ ok: false, reason: 'stale' });
  });
});

describe('createSignatureVerifier: per-second cache', () => {
  test("does not accept one second's sign for another", () => {
    const { clock, verify } = verifierAt(TIME);
    const signA = SIGN;
    const timeB = String(TIME + 1);
    const signB = computeSign(TOKEN, timeB);
    expect(verify(signA, String(TIME))).toEqual({ ok: true });
    clock.seconds = TIME + 1;
    expect(verify(signA, timeB)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verify(signB, timeB)).toEqual({ ok: true });
    // Back to second A (still inside the window): the cached digest of B must not answer for A.
    expect(verify(signB, String(TIME))).toEqual({ ok: false, reason: 'mismatch' });
    expect(verify(signA, String(TIME))).toEqual({ ok: true });
  });

  test('repeated requests within one second all verify (Tencent reuses the same Sign)', () => {
    const { verify } = verifierAt(TIME);
    for (let i = 0; i < 3; i++) {
      expect(verify(SIGN, String(TIME))).toEqual({ ok: true });
    }
  });

  test('verifiers for different tokens do not share a cache', () => {
    const mine = verifierAt(TIME).verify;
    const theirs = createSignatureVerifier({ tokens: ['another-token'], now: () => TIME * 1000 });
    expect(mine(SIGN, String(TIME))).toEqual({ ok: true });
    expect(theirs(SIGN, String(TIME))).toEqual({ ok: false, reason: 'mismatch' });
    expect(mine(SIGN, String(TIME))).toEqual({ ok: true });
  });
});

describe('token rotation', () => {
  test('either of two tokens is accepted, a third is not', () => {
    const time = String(Math.floor(Date.now() / 1000));
    const verify = createSignatureVerifier({ tokens: ['old-token', 'new-token'] });
    expect(verify(computeSign('old-token', time), time)).toEqual({ ok: true });
    expect(verify(computeSign('new-token', time), time)).toEqual({ ok: true });
    expect(verify(computeSign('other-token', time), time)).toEqual({ ok: false, reason: 'mismatch' });
  });

  test('a verifier without a token is a bug, not an open door', () => {
    expect(() => createSignatureVerifier({ tokens: [] })).toThrow(/at least one token/);
  });
});
