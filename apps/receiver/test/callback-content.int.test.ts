import { messageKey } from '@imsync/protocol';
import { expect } from 'vitest';
import {
  allJobs,
  callbackUrl,
  messageBody,
  nestedArrays,
  OK_REPLY,
  openReceiver,
  SDK_APP_ID,
  type TestReceiver,
  test,
} from './support.js';

// Hostile or unusual but valid bodies: the reply is OK, the stored text is exactly what came in,
// and nothing in the body can change the message identity. Prototype keys are refused outright.

// text-public's identity, for bodies built from it.
const TEXT_PUBLIC_KEY = messageKey({
  sdkAppId: SDK_APP_ID,
  groupId: '@TGS#2QH7MZ4NE',
  topicId: '',
  msgSeq: 1842,
  random: 2718281828,
});

/** Posts `body` signed and returns the single job it produced. */
async function postAndGetJob(receiver: TestReceiver, body: string | Uint8Array) {
  const res = await receiver.app.request(callbackUrl(), { method: 'POST', body });
  expect({ status: res.status, text: await res.text() }).toEqual({ status: 200, text: OK_REPLY });
  const jobs = await allJobs(receiver.queue);
  expect(jobs).toHaveLength(1);
  const [job] = jobs;
  if (!job) {
    throw new Error('no job');
  }
  return job;
}

/** text-public with `extra` (raw JSON member text) spliced in before MsgBody, and `text` as its Text. */
function rawBody(extra: string, text = '"Standup moved to 10:30, room B."'): string {
  return [
    '{"CallbackCommand":"Group.CallbackAfterSendMsg","GroupId":"@TGS#2QH7MZ4NE","Type":"Public",',
    '"From_Account":"lin.wei","Random":2718281828,"MsgSeq":1842,"MsgTime":1767583321,',
    extra,
    `"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":${text}}}]}`,
  ].join('');
}

test.for([
  ['"__proto__" at the top level', '{"__proto__":{"polluted":1,"TopicId":"@TGS#evil","MsgSeq":7},', '__proto__'],
  ['"constructor" at the top level', '{"constructor":{"prototype":{"polluted":1}},', 'constructor'],
  ['"__proto__" in an element content', '{', 'MsgBody[0].MsgContent.__proto__'],
] as const)(
  'a body with %s is refused (422, 42203), stores nothing and pollutes nothing',
  async ([, head, path], { receiver }) => {
    const body = [
      head,
      '"CallbackCommand":"Group.CallbackAfterSendMsg","GroupId":"@TGS#2QH7MZ4NE","Type":"Public",',
      '"From_Account":"lin.wei","Random":2718281828,"MsgSeq":1842,"MsgTime":1767583321,',
      `"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"${head === '{' ? ',"__proto__":{"polluted":1}' : ''}}}]}`,
    ].join('');
    // Tencent never sends these keys, and the body is forwarded verbatim to code that may merge it.
    const res = await receiver.app.request(callbackUrl(), { method: 'POST', body });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ ActionStatus: 'FAIL', ErrorCode: 42203, ErrorInfo: `${path}: key not allowed` });
    expect(await allJobs(receiver.queue)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  },
);

test('control characters, surrogates, CJK, RTL and huge numbers survive byte for byte', async ({ receiver }) => {
  const text = String.raw`"nul:\u0000 us:\u001f esc:\u001b tab:\t nl:\n smile:\ud83d\ude00 lone:\ud800 low:\udc00 \"q\" \\ \/"`;
  const raw = '"中文 漢字 한국어 עברית مرحبا بالعالم \u202eRTL-override\u202c \u2028\u2029 😀👩‍👩‍👧 🇨🇳"';
  const extra = [
    `"Raw":${raw},`,
    '"Big":12345678901234567890,"One":1.0,"Exp":1E400,"NegZero":-0,"Tiny":5e-324,',
    '"Nested":{"Deeper":[1.10,2.500,{"k":"v"}]},',
  ].join('');
  const body = rawBody(extra, text);
  const job = await postAndGetJob(receiver, body);
  expect(job.data.body).toBe(body);
  expect(Buffer.from(job.data.body, 'utf8').equals(Buffer.from(body, 'utf8'))).toBe(true);
  expect(job.id).toBe(TEXT_PUBLIC_KEY);
});

test('raw bytes of multi-byte characters are stored as the same UTF-8', async ({ receiver }) => {
  const body = new TextEncoder().encode(rawBody('', '"Grüße, 你好, 🎉, \u200d"'));
  const job = await postAndGetJob(receiver, body);
  expect(Buffer.from(job.data.body, 'utf8').equals(Buffer.from(body))).toBe(true);
});

test('an identity number spelled 1842.0 or 1.842e3 is the same message', async ({ receiver }) => {
  const job = await postAndGetJob(receiver, rawBody('').replace('"MsgSeq":1842', '"MsgSeq":1.842e3'));
  expect(job.id).toBe(TEXT_PUBLIC_KEY);
  expect(job.data.body).toContain('"MsgSeq":1.842e3');
});

test('nesting of exactly MAX_JSON_DEPTH is accepted', async ({ redis }) => {
  const body = messageBody({ Deep: nestedArrays(31) });
  const job = await postAndGetJob(await openReceiver(redis.url, { MAX_JSON_DEPTH: 32 }), body);
  expect(job.data.body).toBe(body);
});

test('brackets inside strings, even after escaped quotes, do not count as nesting', async ({ redis }) => {
  const brackets = '['.repeat(100) + '{'.repeat(100);
  const text = JSON.stringify(`he said \\"${brackets}\\" then \\ ${brackets}`);
  const body = rawBody(`"Note":${JSON.stringify(`"${brackets}`)},`, text);
  const job = await postAndGetJob(await openReceiver(redis.url, { MAX_JSON_DEPTH: 8 }), body);
  expect(job.data.body).toBe(body);
});

test('unknown element types and unknown fields are kept', async ({ receiver }) => {
  const body = messageBody({
    FutureField: { anything: [1, 'two', null, true] },
    MsgBody: [
      { MsgType: 'TIMStreamElem', MsgContent: { Chunks: [{ Index: 0, Markdown: '**hi**', IsLast: true }] } },
      { MsgType: 'TIMTextElem', MsgContent: { Text: 'hi', Extra: 1 }, ElemExtra: 'x' },
    ],
  });
  const job = await postAndGetJob(receiver, body);
  expect(job.data.body).toBe(body);
});
