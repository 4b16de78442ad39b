import { expect } from 'vitest';
import type { RejectionReason } from '../src/errors.js';
import { callbackUrl, expectRejection, jobCount, messageBody, test as receiverTest, TOKEN } from './support.js';

// The checks run in a fixed order (method, app, signature, size, JSON, command, schema) and the
// first failure answers. A request that is wrong in several ways must get the earliest check's
// answer, so cheap checks shield expensive ones: everything the query alone decides comes before
// the body is read, and an unsigned caller learns nothing about bodies, not even their limit.

const LIMIT = 2048;
const NOW = 1_767_225_600_000;
const WRONG_APP = { sdkAppId: '1400000001' };
const BAD_SIGN = { token: `${TOKEN}-not-ours` };
const STALE = { requestTime: NOW / 1000 - 3600 };
const OTHER_COMMAND = { command: 'Group.CallbackAfterRecallMsg' };
const INVALID_JSON = '{"CallbackCommand": "Group.CallbackAfterSendMsg",';
const OVERSIZED_GARBAGE = `{${'x'.repeat(LIMIT * 2)}`;
const SCHEMA_ERROR = messageBody({ MsgSeq: '1842', GroupId: '' });

// Every case runs against a small body limit and a fixed clock.
const test = receiverTest.extend('receiverOptions', { BODY_LIMIT_BYTES: LIMIT, clock: () => NOW });

interface Case {
  method?: string;
  query: Parameters<typeof callbackUrl>[0];
  body: string;
  expected: RejectionReason;
}

const cases: [string, Case][] = [
  [
    'GET + wrong app + bad signature + invalid JSON → 405',
    { method: 'GET', query: { ...WRONG_APP, ...BAD_SIGN }, body: INVALID_JSON, expected: 'method_not_allowed' },
  ],
  ['wrong app + oversize → 403', { query: WRONG_APP, body: OVERSIZED_GARBAGE, expected: 'wrong_app' }],
  [
    'wrong app + bad signature → 403',
    { query: { ...WRONG_APP, ...BAD_SIGN }, body: messageBody(), expected: 'wrong_app' },
  ],
  [
    'wrong app + stale signature + invalid JSON → 403',
    { query: { ...WRONG_APP, ...STALE }, body: INVALID_JSON, expected: 'wrong_app' },
  ],
  [
    'bad signature + oversize + invalid JSON → 401',
    { query: BAD_SIGN, body: OVERSIZED_GARBAGE, expected: 'signature_mismatch' },
  ],
  [
    'missing signature + oversize → 401',
    { query: { token: undefined }, body: OVERSIZED_GARBAGE, expected: 'signature_missing' },
  ],
  ['bad signature + invalid JSON → 401', { query: BAD_SIGN, body: INVALID_JSON, expected: 'signature_mismatch' }],
  [
    'stale signature + command mismatch + schema error → 401',
    { query: { ...STALE, ...OTHER_COMMAND }, body: SCHEMA_ERROR, expected: 'signature_stale' },
  ],
  [
    'oversize + invalid JSON + command mismatch → 413',
    { query: OTHER_COMMAND, body: OVERSIZED_GARBAGE, expected: 'body_too_large' },
  ],
  ['invalid JSON + command mismatch → 400', { query: OTHER_COMMAND, body: INVALID_JSON, expected: 'invalid_json' }],
  [
    'JSON too deep + command mismatch → 400',
    { query: OTHER_COMMAND, body: `{"a":${'['.repeat(40)}${']'.repeat(40)}}`, expected: 'json_too_deep' },
  ],
  [
    'command mismatch + schema error → 422 (42201)',
    { query: OTHER_COMMAND, body: SCHEMA_ERROR, expected: 'command_mismatch' },
  ],
  ['schema error alone → 422 (42202)', { query: {}, body: SCHEMA_ERROR, expected: 'schema' }],
];

test.for(cases)('%s', async ([, { method = 'POST', query, body, expected }], { receiver }) => {
  const url = callbackUrl({ requestTime: NOW / 1000, ...query });
  const res = await receiver.app.request(url, { method, body: method === 'GET' ? null : body });
  await expectRejection(res, expected);
  expect(await jobCount(receiver.queue)).toBe(0);
  // The log line names the same reason the reply answered with.
  expect(receiver.logLines.filter((line) => line.msg === 'callback')).toMatchObject([{ reason: expected }]);
});
