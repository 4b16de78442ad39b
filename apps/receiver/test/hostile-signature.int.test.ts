import { createHash, createHmac } from 'node:crypto';
import { computeSign, GROUP_AFTER_SEND_MSG } from '@imsync/protocol';
import { describe, expect } from 'vitest';
import type { RejectionReason } from '../src/errors.js';
import {
  allJobs,
  callbackUrl,
  expectRejection,
  jobCount,
  messageBody,
  OK_REPLY,
  openReceiver,
  test as receiverTest,
  SDK_APP_ID,
  type TestReceiver,
  TOKEN,
} from './support.js';

// Forged, mangled and replayed signatures with the token configured, beyond the basic cases in
// callback-reject.int.test.ts (missing, not hex, wrong token, stale by 61 s, another second's Sign).
// Queries are written out raw, so what the receiver decodes is exactly what a hostile client sent.

const NOW = 1_767_225_600_000;
const T = NOW / 1000;
const SIGN = computeSign(TOKEN, T);

// Every receiver here reads the same fixed clock.
const test = receiverTest.extend('receiverOptions', { clock: () => NOW });

/**
 * The callback URL with a raw query: the signed defaults, each replaced in place by `overrides`
 * (raw text, or null to leave it out), with raw `before` and `after` pieces around them.
 */
function rawUrl(overrides: Record<string, string | null> = {}, before: string[] = [], after: string[] = []): string {
  const params: Record<string, string | null> = {
    SdkAppid: SDK_APP_ID,
    CallbackCommand: GROUP_AFTER_SEND_MSG,
    contenttype: 'json',
    RequestTime: String(T),
    Sign: SIGN,
    ...overrides,
  };
  const pieces = Object.entries(params).flatMap(([name, value]) => (value === null ? [] : [`${name}=${value}`]));
  return `http://receiver.test/im/callback?${[...before, ...pieces, ...after].join('&')}`;
}

const percentAll = (text: string) => [...Buffer.from(text)].map((byte) => `%${byte.toString(16)}`).join('');

function post(receiver: TestReceiver, url: string, body = messageBody()) {
  return receiver.app.request(url, { method: 'POST', body });
}

async function expectAccepted(receiver: TestReceiver, res: Response, jobs = 1): Promise<void> {
  expect({ status: res.status, text: await res.text() }).toEqual({ status: 200, text: OK_REPLY });
  expect(await jobCount(receiver.queue)).toBe(jobs);
}

async function expectRefused(receiver: TestReceiver, res: Response, reason: RejectionReason): Promise<void> {
  await expectRejection(res, reason);
  expect(await jobCount(receiver.queue)).toBe(0);
}

type Case = [string, () => string, RejectionReason | 'accepted'];

async function expectCase(receiver: TestReceiver, [, url, expected]: Case): Promise<void> {
  const res = await post(receiver, url());
  if (expected === 'accepted') {
    await expectAccepted(receiver, res);
  } else {
    await expectRefused(receiver, res, expected);
  }
}

describe('Sign as written', () => {
  const cases: Case[] = [
    // Hex is case-insensitive: an uppercase Sign carries the same digest, so it proves the token as well.
    ['uppercase', () => rawUrl({ Sign: SIGN.toUpperCase() }), 'accepted'],
    ['mixed case', () => rawUrl({ Sign: `${SIGN.slice(0, 32).toUpperCase()}${SIGN.slice(32)}` }), 'accepted'],
    ['percent-encoded byte by byte', () => rawUrl({ Sign: percentAll(SIGN) }), 'accepted'],
    ['with a trailing newline', () => rawUrl({ Sign: `${SIGN}%0A` }), 'signature_malformed'],
    ['with a trailing CRLF', () => rawUrl({ Sign: `${SIGN}%0D%0A` }), 'signature_malformed'],
    ['with a leading space (+)', () => rawUrl({ Sign: `+${SIGN}` }), 'signature_malformed'],
    ['with a trailing space (%20)', () => rawUrl({ Sign: `${SIGN}%20` }), 'signature_malformed'],
    ['with a trailing NUL', () => rawUrl({ Sign: `${SIGN}%00` }), 'signature_malformed'],
    ['65 hex digits', () => rawUrl({ Sign: `${SIGN}0` }), 'signature_malformed'],
    ['two digests back to back', () => rawUrl({ Sign: `${SIGN}${SIGN}` }), 'signature_malformed'],
    ['SHA-512 of token + RequestTime', () => rawUrl({ Sign: sha(`${TOKEN}${T}`, 'sha512') }), 'signature_malformed'],
    ['SHA-256 of RequestTime + token', () => rawUrl({ Sign: sha(`${T}${TOKEN}`) }), 'signature_mismatch'],
    [
      'HMAC-SHA256 of RequestTime keyed with the token',
      () => rawUrl({ Sign: hmac(TOKEN, String(T)) }),
      'signature_mismatch',
    ],
    ['SHA-256 of the token alone', () => rawUrl({ Sign: sha(TOKEN) }), 'signature_mismatch'],
    ['SHA-256 with an empty token', () => rawUrl({ Sign: computeSign('', T) }), 'signature_mismatch'],
    ['the right digest with one digit changed', () => rawUrl({ Sign: flipLastDigit(SIGN) }), 'signature_mismatch'],
    // The first value is the one checked, as with every query parameter.
    ['a bad Sign, then the right one', () => rawUrl({}, [`Sign=${'0'.repeat(64)}`]), 'signature_mismatch'],
    ['garbage, then the right Sign', () => rawUrl({}, ['Sign=x']), 'signature_malformed'],
    ['the right Sign, then a forged one', () => rawUrl({}, [], [`Sign=${'0'.repeat(64)}`]), 'accepted'],
    ['named "sign"', () => rawUrl({ Sign: null }, [`sign=${SIGN}`]), 'signature_missing'],
  ];
  test.for(cases)('%s', async (each, { receiver }) => expectCase(receiver, each));
});

describe('RequestTime as written (Sign computed over the canonical time)', () => {
  const cases: Case[] = [
    ['with a leading + (%2B)', () => rawUrl({ RequestTime: `%2B${T}` }), 'signature_malformed'],
    ['with a raw leading + (a space once decoded)', () => rawUrl({ RequestTime: `+${T}` }), 'signature_malformed'],
    ['with a leading space', () => rawUrl({ RequestTime: `%20${T}` }), 'signature_malformed'],
    ['with a trailing space', () => rawUrl({ RequestTime: `${T}%20` }), 'signature_malformed'],
    ['with a trailing newline', () => rawUrl({ RequestTime: `${T}%0A` }), 'signature_malformed'],
    ['with a tab inside', () => rawUrl({ RequestTime: `1767%09225600` }), 'signature_malformed'],
    ['as T.0', () => rawUrl({ RequestTime: `${T}.0` }), 'signature_malformed'],
    ['in exponent form', () => rawUrl({ RequestTime: '1.7672256e9' }), 'signature_malformed'],
    ['in hex', () => rawUrl({ RequestTime: `0x${T.toString(16)}` }), 'signature_malformed'],
    ['negative', () => rawUrl({ RequestTime: `-${T}` }), 'signature_malformed'],
    ['empty', () => rawUrl({ RequestTime: '' }), 'signature_malformed'],
    ['13 digits', () => rawUrl({ RequestTime: `000${T}` }), 'signature_malformed'],
    [
      'in full-width digits',
      () => rawUrl({ RequestTime: encodeURIComponent(fullWidth(String(T))) }),
      'signature_malformed',
    ],
    [
      'in Arabic-Indic digits',
      () => rawUrl({ RequestTime: encodeURIComponent(arabicIndic(String(T))) }),
      'signature_malformed',
    ],
    // The Sign covers the time as written: the same instant spelled otherwise is another string.
    ['with a leading zero', () => rawUrl({ RequestTime: `0${T}` }), 'signature_mismatch'],
    [
      'with a leading zero, signed as written',
      () => rawUrl({ RequestTime: `0${T}`, Sign: computeSign(TOKEN, `0${T}`) }),
      'accepted',
    ],
    ['as 0, signed', () => rawUrl({ RequestTime: '0', Sign: computeSign(TOKEN, '0') }), 'signature_stale'],
    [
      'as 12 nines, signed',
      () => rawUrl({ RequestTime: '9'.repeat(12), Sign: computeSign(TOKEN, '9'.repeat(12)) }),
      'signature_stale',
    ],
    ['the right time, then another', () => rawUrl({}, [], [`RequestTime=${T - 1}`]), 'accepted'],
    ['another time, then the right one', () => rawUrl({}, [`RequestTime=${T - 1}`]), 'signature_mismatch'],
  ];
  test.for(cases)('%s', async (each, { receiver }) => expectCase(receiver, each));
});

describe('the 60 s window, at its edges', () => {
  const cases: Case[] = [
    ['exactly 60 s old', () => callbackUrl({ requestTime: T - 60 }), 'accepted'],
    ['exactly 60 s ahead', () => callbackUrl({ requestTime: T + 60 }), 'accepted'],
    ['an hour old', () => callbackUrl({ requestTime: T - 3600 }), 'signature_stale'],
    ['a year ahead', () => callbackUrl({ requestTime: T + 365 * 86_400 }), 'signature_stale'],
  ];
  test.for(cases)('%s', async (each, { receiver }) => expectCase(receiver, each));

  test('a clock that reads NaN refuses every signature (fails closed)', async ({ redis }) => {
    const receiver = await openReceiver(redis.url, { clock: () => Number.NaN });
    await expectRefused(receiver, await post(receiver, callbackUrl({ requestTime: T })), 'signature_stale');
  });
});

describe('SdkAppid look-alikes, signed with the right token', () => {
  const cases: Case[] = [
    ['with a leading zero', () => rawUrl({ SdkAppid: `0${SDK_APP_ID}` }), 'wrong_app'],
    ['with a trailing space', () => rawUrl({ SdkAppid: `${SDK_APP_ID}%20` }), 'wrong_app'],
    ['with a raw leading +', () => rawUrl({ SdkAppid: `+${SDK_APP_ID}` }), 'wrong_app'],
    ['with a trailing NUL', () => rawUrl({ SdkAppid: `${SDK_APP_ID}%00` }), 'wrong_app'],
    ['in full-width digits', () => rawUrl({ SdkAppid: encodeURIComponent(fullWidth(SDK_APP_ID)) }), 'wrong_app'],
    ['as a number in exponent form', () => rawUrl({ SdkAppid: '1.600012345e9' }), 'wrong_app'],
    ['named "sdkappid"', () => rawUrl({ SdkAppid: null }, [`sdkappid=${SDK_APP_ID}`]), 'wrong_app'],
    ['another app first, then ours', () => rawUrl({}, ['SdkAppid=1400000001']), 'wrong_app'],
    ['ours first, then another app', () => rawUrl({}, [], ['SdkAppid=1400000001']), 'accepted'],
    ['percent-encoded byte by byte', () => rawUrl({ SdkAppid: percentAll(SDK_APP_ID) }), 'accepted'],
  ];
  test.for(cases)('%s', async (each, { receiver }) => expectCase(receiver, each));
});

describe('replay', () => {
  // Tencent signs only the time: every callback of one second carries the same Sign, so a Sign
  // seen before is no reason to refuse. The message identity is what dedupes.
  test('one signed URL, reused for two messages in the same second: both stored', async ({ receiver }) => {
    const url = callbackUrl({ requestTime: T });
    await expectAccepted(receiver, await post(receiver, url, messageBody({ MsgSeq: 1 })), 1);
    await expectAccepted(receiver, await post(receiver, url, messageBody({ MsgSeq: 2 })), 2);
  });

  test('the same signed request replayed within the window: 200 each time, one job', async ({ receiver }) => {
    const url = callbackUrl({ requestTime: T });
    for (let i = 0; i < 3; i++) {
      await expectAccepted(receiver, await post(receiver, url), 1);
    }
  });

  test('the same signed request replayed once the window has passed: 401 stale, nothing new', async ({ redis }) => {
    let now = NOW;
    const receiver = await openReceiver(redis.url, { clock: () => now });
    const url = callbackUrl({ requestTime: T });
    await expectAccepted(receiver, await post(receiver, url, messageBody({ MsgSeq: 1 })), 1);
    now = NOW + 60_000;
    await expectAccepted(receiver, await post(receiver, url, messageBody({ MsgSeq: 2 })), 2);
    now = NOW + 61_000;
    await expectRejection(await post(receiver, url, messageBody({ MsgSeq: 3 })), 'signature_stale');
    expect((await allJobs(receiver.queue)).map((job) => JSON.parse(job.data.body).MsgSeq).sort()).toEqual([1, 2]);
  });

  // The verifier caches the digest of the last RequestTime it saw; alternating times must not let
  // one second's Sign pass for another's.
  test('alternating seconds: each Sign passes for its own time only', async ({ receiver }) => {
    const signed = (time: number, sign = computeSign(TOKEN, time)) => rawUrl({ RequestTime: String(time), Sign: sign });
    const sequence: [string, RejectionReason | 'accepted'][] = [
      [signed(T), 'accepted'],
      [signed(T - 1), 'accepted'],
      [signed(T, computeSign(TOKEN, T - 1)), 'signature_mismatch'],
      [signed(T), 'accepted'],
      [signed(T - 1, SIGN), 'signature_mismatch'],
      [signed(T - 1), 'accepted'],
    ];
    for (const [index, [url, expected]] of sequence.entries()) {
      const res = await post(receiver, url, messageBody({ MsgSeq: 100 + index }));
      if (expected === 'accepted') {
        expect({ step: index, status: res.status, text: await res.text() }).toEqual({
          step: index,
          status: 200,
          text: OK_REPLY,
        });
      } else {
        expect({ step: index, status: res.status }).toMatchObject({ step: index, status: 401 });
        await expectRejection(res, expected);
      }
    }
    const stored = (await allJobs(receiver.queue)).map((job) => JSON.parse(job.data.body).MsgSeq);
    expect(stored.sort()).toEqual([100, 101, 103, 105]);
  });
});

function sha(text: string, algorithm = 'sha256'): string {
  return createHash(algorithm).update(text, 'utf8').digest('hex');
}

function hmac(key: string, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('hex');
}

function flipLastDigit(hex: string): string {
  return `${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}`;
}

function fullWidth(digits: string): string {
  return [...digits].map((digit) => String.fromCharCode(0xff10 + Number(digit))).join('');
}

function arabicIndic(digits: string): string {
  return [...digits].map((digit) => String.fromCharCode(0x0660 + Number(digit))).join('');
}
