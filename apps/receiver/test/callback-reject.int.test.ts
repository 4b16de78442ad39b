import { computeSign, GROUP_AFTER_SEND_MSG } from '@imsync/protocol';
import { describe, expect } from 'vitest';
import type { RejectionReason } from '../src/errors.js';
import {
  callbackUrl,
  expectRejection,
  jobCount,
  messageBody,
  nestedArrays,
  OK_REPLY,
  openReceiver,
  type TestReceiver,
  TOKEN,
  test,
} from './support.js';

// Every refusal: the status and ErrorCode from REJECTIONS, a FAIL envelope that says why, and
// nothing in Redis. Each case goes through `app.request()`, the web-stream body path.

async function expectRefused(receiver: TestReceiver, res: Response, reason: RejectionReason) {
  const reply = await expectRejection(res, reason);
  expect(await jobCount(receiver.queue)).toBe(0);
  return reply;
}

function post(receiver: TestReceiver, url: string, body: RequestInit['body'] = messageBody(), init: RequestInit = {}) {
  return receiver.app.request(url, { method: 'POST', body, ...init });
}

/** The signed URL with `edit` applied to its query. */
function editedUrl(edit: (query: URLSearchParams) => void, options: Parameters<typeof callbackUrl>[0] = {}): string {
  const url = new URL(callbackUrl(options));
  edit(url.searchParams);
  return url.toString();
}

test.for(['GET', 'PUT', 'DELETE', 'PATCH'])('%s is 405 with Allow: POST', async (method, { receiver }) => {
  const body = method === 'GET' ? null : messageBody();
  const res = await receiver.app.request(callbackUrl(), { method, body });
  expect(res.headers.get('allow')).toBe('POST');
  await expectRefused(receiver, res, 'method_not_allowed');
});

describe('body size (BODY_LIMIT_BYTES 2048)', () => {
  const limit = 2048;
  test.override('receiverOptions', { BODY_LIMIT_BYTES: limit });
  const padded = (size: number) => {
    const text = messageBody({ Pad: '' });
    return messageBody({ Pad: 'x'.repeat(size - text.length) });
  };

  test('a body of exactly the limit is accepted', async ({ receiver }) => {
    const body = padded(limit);
    expect(body.length).toBe(limit);
    const res = await post(receiver, callbackUrl(), body, { headers: { 'content-length': String(limit) } });
    expect(await res.text()).toBe(OK_REPLY);
    expect(await jobCount(receiver.queue)).toBe(1);
  });

  test('one byte over, with a correct Content-Length, is 413', async ({ receiver }) => {
    const body = padded(limit + 1);
    const res = await post(receiver, callbackUrl(), body, { headers: { 'content-length': String(body.length) } });
    await expectRefused(receiver, res, 'body_too_large');
  });

  test('one byte over, with no Content-Length, is 413', async ({ receiver }) => {
    const res = await post(receiver, callbackUrl(), padded(limit + 1));
    await expectRefused(receiver, res, 'body_too_large');
  });

  test('an endless streamed body of unknown length is cut off with 413', async ({ receiver }) => {
    let pulled = 0;
    let cancelled = false;
    // Never ends: the test can only finish if the receiver stops reading past the limit.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 512;
        controller.enqueue(new Uint8Array(512).fill(0x20));
      },
      cancel() {
        cancelled = true;
      },
    });
    const res = await post(receiver, callbackUrl(), body, { duplex: 'half' } as RequestInit);
    await expectRefused(receiver, res, 'body_too_large');
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(limit * 4);
  });
});

test('a body stream that fails mid-way is 400 body_incomplete', async ({ receiver }) => {
  const text = new TextEncoder().encode(messageBody());
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(text.subarray(0, 40));
      controller.error(new Error('client went away'));
    },
  });
  const res = await post(receiver, callbackUrl(), body, { duplex: 'half' } as RequestInit);
  await expectRefused(receiver, res, 'body_incomplete');
});

describe('SdkAppid', () => {
  test('another app is 403', async ({ receiver }) => {
    await expectRefused(receiver, await post(receiver, callbackUrl({ sdkAppId: '1400000001' })), 'wrong_app');
  });

  test('missing is 403', async ({ receiver }) => {
    const url = editedUrl((query) => query.delete('SdkAppid'));
    await expectRefused(receiver, await post(receiver, url), 'wrong_app');
  });
});

describe('signature (token configured)', () => {
  const now = 1_767_225_600_000;
  const seconds = now / 1000;
  test.override('receiverOptions', { clock: () => now });
  const cases: [string, () => string, RejectionReason][] = [
    ['missing Sign', () => editedUrl((q) => q.delete('Sign')), 'signature_missing'],
    ['missing RequestTime', () => editedUrl((q) => q.delete('RequestTime')), 'signature_missing'],
    ['neither', () => callbackUrl({ token: undefined }), 'signature_missing'],
    ['Sign not hex', () => editedUrl((q) => q.set('Sign', 'z'.repeat(64))), 'signature_malformed'],
    ['Sign too short', () => editedUrl((q) => q.set('Sign', 'ab'.repeat(16))), 'signature_malformed'],
    ['Sign empty', () => editedUrl((q) => q.set('Sign', '')), 'signature_malformed'],
    ['RequestTime not digits', () => editedUrl((q) => q.set('RequestTime', `${seconds}.5`)), 'signature_malformed'],
    ['wrong token', () => callbackUrl({ token: `${TOKEN}x`, requestTime: seconds }), 'signature_mismatch'],
    [
      'Sign of another RequestTime',
      () => editedUrl((q) => q.set('Sign', computeSign(TOKEN, seconds - 1)), { requestTime: seconds }),
      'signature_mismatch',
    ],
    ['RequestTime 61 s old', () => callbackUrl({ requestTime: seconds - 61 }), 'signature_stale'],
    ['RequestTime 61 s ahead', () => callbackUrl({ requestTime: seconds + 61 }), 'signature_stale'],
  ];
  test.for(cases)('%s is 401', async ([, url, reason], { receiver }) => {
    await expectRefused(receiver, await post(receiver, url()), reason);
  });
});

describe('body decoding', () => {
  const cases: [string, RequestInit['body'], RejectionReason][] = [
    ['an empty body', '', 'invalid_json'],
    ['truncated JSON', messageBody().slice(0, -1), 'invalid_json'],
    ['a urlencoded form', 'CallbackCommand=Group.CallbackAfterSendMsg', 'invalid_json'],
    ['a lone 0xFF byte inside a string', bytesWith(new Uint8Array([0xff])), 'invalid_encoding'],
    ['an overlong "/" (0xC0 0xAF)', bytesWith(new Uint8Array([0xc0, 0xaf])), 'invalid_encoding'],
    ['a UTF-8-encoded surrogate (0xED 0xA0 0x80)', bytesWith(new Uint8Array([0xed, 0xa0, 0x80])), 'invalid_encoding'],
    ['Latin-1 "é"', bytesWith(new Uint8Array([0xe9])), 'invalid_encoding'],
    ['nesting deeper than MAX_JSON_DEPTH', messageBody({ Deep: nestedArrays(32) }), 'json_too_deep'],
  ];
  test.for(cases)('%s is 400', async ([, body, reason], { receiver }) => {
    await expectRefused(receiver, await post(receiver, callbackUrl(), body), reason);
  });
});

describe('CallbackCommand', () => {
  const cases: [string, () => string, string][] = [
    ['missing in the body', callbackUrl, messageBody({ CallbackCommand: undefined })],
    ['not a string in the body', callbackUrl, messageBody({ CallbackCommand: 7 })],
    ['different in query and body', () => callbackUrl({ command: 'Group.CallbackAfterRecallMsg' }), messageBody()],
    ['missing in the query', () => editedUrl((q) => q.delete('CallbackCommand')), messageBody()],
    ['a body that is not an object', callbackUrl, JSON.stringify([GROUP_AFTER_SEND_MSG])],
  ];
  test.for(cases)('%s is 422 (42201)', async ([, url, body], { receiver }) => {
    await expectRefused(receiver, await post(receiver, url(), body), 'command_mismatch');
  });
});

describe('schema violations are 422 (42202) naming the field', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['MsgSeq as a string', { MsgSeq: '123' }, 'MsgSeq'],
    ['Random above uint32', { Random: 4_294_967_296 }, 'Random'],
    ['MsgSeq negative', { MsgSeq: -1 }, 'MsgSeq'],
    ['GroupId missing', { GroupId: undefined }, 'GroupId'],
    ['GroupId empty', { GroupId: '' }, 'GroupId'],
    ['MsgBody empty', { MsgBody: [] }, 'MsgBody'],
    ['MsgBody not an array', { MsgBody: { MsgType: 'TIMTextElem' } }, 'MsgBody'],
    [
      'TIMTextElem Text a number',
      { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 42 } }] },
      'MsgBody.0.MsgContent.Text',
    ],
  ];
  test.for(cases)('%s', async ([, patch, field], { receiver }) => {
    const reply = await expectRefused(receiver, await post(receiver, callbackUrl(), messageBody(patch)), 'schema');
    expect(reply.ErrorInfo).toContain(field);
  });
});

test('an unexpected error is 500 with the request id, never its message', async ({ redis }) => {
  const secret = 'clock source /dev/ptp0 failed: ioctl 0x3d';
  const receiver = await openReceiver(redis.url, {
    clock: () => {
      throw new Error(secret);
    },
  });
  const res = await post(receiver, callbackUrl());
  const reply = await expectRefused(receiver, res, 'internal');
  expect(reply.ErrorInfo).not.toContain(secret);
  expect(reply.ErrorInfo).toContain(res.headers.get('x-request-id') ?? 'no request id');
  // The operator still finds it, by that request id, in the log.
  expect(receiver.logLines).toContainEqual(
    expect.objectContaining({ msg: 'unexpected error', requestId: res.headers.get('x-request-id') }),
  );
});

/** A valid message whose `From_Account` holds `raw` bytes in the middle of the string. */
function bytesWith(raw: Uint8Array): Uint8Array {
  const [head, tail] = messageBody({ From_Account: 'lin@@wei' }).split('@@');
  const encoder = new TextEncoder();
  return Buffer.concat([encoder.encode(head), raw, encoder.encode(tail)]);
}
