import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { groupMessageBody } from './fake/test-bodies.js';
import {
  createTencentApi,
  type FakeTencent,
  type FakeTencentOptions,
  type GroupHistoryRequest,
  genUserSig,
  type HistoryItem,
  type HistoryPage,
  NO_TENCENT_CODE,
  startFakeTencent,
  type TencentApi,
  type TencentApiOptions,
  type TencentErrorKind,
  type TencentResult,
  type ThrottleOptions,
} from './index.js';

// The client against the fake Tencent API over real HTTP on 127.0.0.1: no mock of fetch. Both
// are used through the package's index, as the apps use them.

const APP = '1400000001';
const KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
const GROUP = '@TGS#2J4SZEAEL';
const COMMUNITY = '@TGS#_@TGS#cQVLVHIM62CJ';
const TOPIC = `${COMMUNITY}@TOPIC#_general`;

/** Seconds since the epoch of the client's clock; the fake's runs `skew` seconds ahead. */
let now = 1_700_000_000;
let skew = 0;
let fake: FakeTencent;

function start(options: Partial<FakeTencentOptions> = {}): Promise<FakeTencent> {
  return startFakeTencent({ apps: { [APP]: KEY }, clock: () => new Date((now + skew) * 1000), ...options });
}

beforeEach(async () => {
  now = 1_700_000_000;
  skew = 0;
  fake = await start();
});

afterEach(async () => {
  await fake.close();
});

function client(options: Partial<TencentApiOptions> = {}): TencentApi {
  return createTencentApi({
    baseUrl: fake.url,
    sdkAppId: APP,
    adminIdentifier: 'administrator',
    secretKey: KEY,
    clock: () => new Date(now * 1000),
    ...options,
  });
}

const message = (seq: number, fields: Record<string, unknown> = {}) => groupMessageBody(GROUP, seq, fields);

function value<T>(result: TencentResult<T>): T {
  if (!result.ok) {
    throw new Error(`expected an answer, got ${result.code} ${result.kind}: ${result.info}`);
  }
  return result.value;
}

/** Walks `top` down to `bottom` the way groupHistory's doc says; the seqs seen and the calls made. */
async function walk(
  api: TencentApi,
  request: Pick<GroupHistoryRequest, 'groupId' | 'topicId'>,
  top: number,
  bottom: number,
) {
  const seqs: number[] = [];
  let calls = 0;
  let reqMsgSeq = top;
  while (reqMsgSeq >= bottom) {
    const reqMsgNumber = Math.min(20, reqMsgSeq - bottom + 1);
    const page: HistoryPage = value(
      await api.groupHistory({ ...request, reqMsgSeq, reqMsgNumber, withRecalled: true }),
    );
    calls += 1;
    const returned = page.items.map((item) => item.msgSeq);
    seqs.push(...returned);
    const smallest = Math.min(...returned);
    reqMsgSeq = (page.isFinished === 1 ? Math.min(smallest, reqMsgSeq - reqMsgNumber + 1) : smallest) - 1;
  }
  return { seqs, calls };
}

test('paging a range down, 20 seqs a call, newest first; online-only seqs are not in the history', async () => {
  for (let seq = 101; seq <= 145; seq += 1) {
    fake.record(APP, message(seq, seq % 10 === 0 ? { OnlineOnlyFlag: 1 } : {}));
  }
  const api = client();
  const info = value(await api.groupInfo(GROUP));
  expect(info).toEqual({ type: 'Public', nextMsgSeq: 146 });
  const { seqs, calls } = await walk(api, { groupId: GROUP }, info.nextMsgSeq - 1, 101);
  const kept = Array.from({ length: 45 }, (_, i) => 145 - i).filter((seq) => seq % 10 !== 0);
  expect(seqs).toEqual(kept);
  expect(calls).toBe(3);
  expect(fake.calls('group_msg_get_simple')).toBe(3);
  expect(fake.calls()).toBe(4);

  const newest = value(await api.groupHistory({ groupId: GROUP, reqMsgNumber: 2, withRecalled: false }));
  expect(newest.isFinished).toBe(1);
  const item: HistoryItem | undefined = newest.items[0];
  expect(item).toEqual({
    msgSeq: 145,
    msgRandom: 7145,
    msgTimeStamp: 1_699_990_145,
    fromAccount: 'lin.wei',
    msgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello 145' } }],
    isPlaceMsg: 0,
    isSystemMsg: false,
    raw: {
      From_Account: 'lin.wei',
      IsPlaceMsg: 0,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello 145' } }],
      MsgPriority: 2,
      MsgRandom: 7145,
      MsgSeq: 145,
      MsgTimeStamp: 1_699_990_145,
    },
  });
});

test('a page cut short (IsFinished 0) goes on from its smallest seq', async () => {
  await fake.close();
  fake = await start({ maxPageBytes: 600 });
  for (let seq = 1; seq <= 20; seq += 1) {
    fake.record(APP, message(seq));
  }
  const api = client();
  const first = value(await api.groupHistory({ groupId: GROUP, reqMsgSeq: 20, reqMsgNumber: 20, withRecalled: true }));
  expect(first.isFinished).toBe(0);
  expect(first.items.length).toBeLessThan(20);
  const { seqs } = await walk(api, { groupId: GROUP }, 20, 1);
  expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
});

test('placeholders and tips: recalled (only when asked), expired, system', async () => {
  for (const seq of [1, 2, 3]) {
    fake.record(APP, message(seq));
  }
  fake.markRecalled(APP, GROUP, '', 2);
  fake.markExpired(APP, GROUP, '', 1);
  fake.markExpired(APP, GROUP, '', 0);
  fake.recordSystem(APP, GROUP, '', 4);
  const api = client();
  const page = value(await api.groupHistory({ groupId: GROUP, reqMsgSeq: 4, reqMsgNumber: 5, withRecalled: true }));
  expect(
    page.items.map(({ msgSeq, isPlaceMsg, isSystemMsg, msgBody }) => ({ msgSeq, isPlaceMsg, isSystemMsg, msgBody })),
  ).toEqual([
    { msgSeq: 4, isPlaceMsg: 0, isSystemMsg: true, msgBody: [] },
    { msgSeq: 3, isPlaceMsg: 0, isSystemMsg: false, msgBody: [expect.anything()] },
    { msgSeq: 2, isPlaceMsg: 2, isSystemMsg: false, msgBody: [] },
    { msgSeq: 1, isPlaceMsg: 1, isSystemMsg: false, msgBody: [] },
    { msgSeq: 0, isPlaceMsg: 1, isSystemMsg: false, msgBody: [] },
  ]);
  // A bare placeholder comes with its seq only: the rest is filled with empty values.
  expect(page.items[4]).toMatchObject({ msgRandom: 0, msgTimeStamp: 0, fromAccount: '', raw: { MsgSeq: 0 } });
  const hidden = value(await api.groupHistory({ groupId: GROUP, reqMsgSeq: 4, reqMsgNumber: 5, withRecalled: false }));
  expect(hidden.items.map((item) => item.msgSeq)).toEqual([4, 3, 1, 0]);
});

test('topics: each has its own stream and NextMsgSeq; a topic not there answers 10010', async () => {
  fake.record(APP, message(7, { GroupId: COMMUNITY, Type: 'Community' }));
  fake.record(APP, message(300, { GroupId: COMMUNITY, Type: 'Community', TopicId: TOPIC }));
  fake.record(APP, message(301, { GroupId: COMMUNITY, Type: 'Community', TopicId: TOPIC }));
  const api = client();
  expect(value(await api.groupInfo(COMMUNITY))).toEqual({ type: 'Community', nextMsgSeq: 8 });
  expect(value(await api.topicInfo(COMMUNITY, TOPIC))).toEqual({ nextMsgSeq: 302 });
  const inTopic = await api.groupHistory({ groupId: COMMUNITY, topicId: TOPIC, reqMsgNumber: 20, withRecalled: true });
  expect(value(inTopic).items.map((item) => item.msgSeq)).toEqual([301, 300]);
  const own = await api.groupHistory({ groupId: COMMUNITY, topicId: '', reqMsgNumber: 20, withRecalled: true });
  expect(value(own).items.map((item) => item.msgSeq)).toEqual([7]);
  expect(await api.topicInfo(COMMUNITY, `${COMMUNITY}@TOPIC#_gone`)).toMatchObject({ ok: false, code: 10010 });
  expect(await api.topicInfo(GROUP, TOPIC)).toMatchObject({ ok: false, code: 10010, kind: 'group_gone' });
});

test('an AVChatRoom has a type and a NextMsgSeq but no history', async () => {
  fake.record(APP, message(12, { GroupId: 'live-1', Type: 'AVChatRoom' }));
  const api = client();
  expect(value(await api.groupInfo('live-1'))).toEqual({ type: 'AVChatRoom', nextMsgSeq: 13 });
  const history = await api.groupHistory({ groupId: 'live-1', reqMsgNumber: 20, withRecalled: true });
  expect(history).toMatchObject({ ok: false, code: 10004, kind: 'fatal' });
});

test('throttling answers throttled and the next call goes through', async () => {
  fake.record(APP, message(1));
  const api = client();
  const history = () => api.groupHistory({ groupId: GROUP, reqMsgNumber: 1, withRecalled: true });
  fake.throttle({ forCalls: 2 });
  expect(await history()).toEqual({ ok: false, code: 60018, info: expect.any(String), kind: 'throttled' });
  expect(await api.groupInfo(GROUP)).toMatchObject({ ok: false, code: 60018, kind: 'throttled' });
  expect((await history()).ok).toBe(true);

  const perSecond: ThrottleOptions = { perSecond: 2, code: 60007 };
  fake.throttle(perSecond);
  expect((await history()).ok).toBe(true);
  expect((await history()).ok).toBe(true);
  expect(await history()).toMatchObject({ ok: false, code: 60007, kind: 'throttled' });
  now += 1;
  expect((await history()).ok).toBe(true);
  fake.throttle();
  expect(fake.calls('group_msg_get_simple')).toBe(6);
});

test('an expired UserSig (70001) is made anew and the call tried once more', async () => {
  fake.record(APP, message(1));
  // Tencent's clock runs 90 s ahead of ours; each UserSig lives 100 s.
  skew = 90;
  const api = client({ userSigLifetimeSeconds: 100 });
  const history = () => api.groupHistory({ groupId: GROUP, reqMsgNumber: 1, withRecalled: true });
  expect((await history()).ok).toBe(true);
  expect(fake.calls()).toBe(1);
  // 50 s on (not yet 80 % of its life by our clock) the kept UserSig has expired by Tencent's.
  now += 50;
  expect((await history()).ok).toBe(true);
  expect(fake.calls()).toBe(3);
  // A new UserSig that is refused too ends the call: one try more, not a loop.
  skew = 1000;
  expect(await history()).toMatchObject({ ok: false, code: 70001, kind: 'signature' });
  expect(fake.calls()).toBe(5);
});

test('the UserSig is made anew after 80 % of its lifetime, before Tencent would refuse it', async () => {
  fake.record(APP, message(1));
  skew = 30;
  const api = client({ userSigLifetimeSeconds: 100 });
  const history = () => api.groupHistory({ groupId: GROUP, reqMsgNumber: 1, withRecalled: true });
  expect((await history()).ok).toBe(true);
  // 81 s on: the first UserSig (valid until +100 by Tencent's clock, now at +111) would be refused.
  now += 81;
  expect((await history()).ok).toBe(true);
  expect(fake.calls()).toBe(2);
});

test('a removed group is group_gone for every API', async () => {
  fake.record(APP, message(1));
  fake.removeGroup(APP, GROUP);
  const api = client();
  const gone = { ok: false, code: 10010, kind: 'group_gone' };
  expect(await api.groupHistory({ groupId: GROUP, reqMsgNumber: 20, withRecalled: true })).toMatchObject(gone);
  expect(await api.groupInfo(GROUP)).toMatchObject(gone);
  expect(await api.topicInfo(GROUP, TOPIC)).toMatchObject(gone);
  expect(await api.groupInfo('never-seen')).toMatchObject(gone);
});

test('config errors: another key or app (signature), an account that is no admin (permission)', async () => {
  fake.record(APP, message(1));
  const kind = async (options: Partial<TencentApiOptions>): Promise<[number, TencentErrorKind] | undefined> => {
    const result = await client(options).groupInfo(GROUP);
    return result.ok ? undefined : [result.code, result.kind];
  };
  expect(await kind({ secretKey: 'not the key' })).toEqual([70009, 'signature']);
  expect(await kind({ sdkAppId: '1400000002' })).toEqual([70020, 'signature']);
  expect(await kind({ adminIdentifier: 'lin.wei' })).toEqual([60010, 'permission']);
});

test('a request that cannot be right rejects before any call', async () => {
  const api = client();
  const request = { groupId: GROUP, withRecalled: true };
  await expect(api.groupHistory({ ...request, reqMsgNumber: 21 })).rejects.toThrow(RangeError);
  await expect(api.groupHistory({ ...request, reqMsgNumber: 0 })).rejects.toThrow(RangeError);
  await expect(api.groupHistory({ ...request, reqMsgNumber: 5, reqMsgSeq: -1 })).rejects.toThrow(RangeError);
  expect(fake.calls()).toBe(0);
  expect(() => client({ baseUrl: 'ftp://console.tim.qq.com' })).toThrow('http(s)');
  expect(() => client({ sdkAppId: 'abc' })).toThrow('SDKAppID');
});

// Not Tencent: a local server that answers what a proxy or a broken network might.

let other: Server | undefined;
afterEach(async () => {
  if (other) {
    other.closeAllConnections();
    await new Promise((resolve) => other?.close(resolve));
    other = undefined;
  }
});

async function serve(handler: (url: string, response: ServerResponse) => void): Promise<string> {
  other = createServer((request, response) => {
    request.resume();
    request.on('end', () => handler(request.url ?? '', response));
  });
  await new Promise<void>((resolve) => other?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
}

test('no answer from Tencent: HTTP errors, not JSON, timeouts, refused connections; never the UserSig or key', async () => {
  const token = genUserSig({
    sdkAppId: APP,
    secretKey: KEY,
    identifier: 'administrator',
    expireSeconds: 86_400,
    now: new Date(now * 1000),
  });
  const results: TencentResult<unknown>[] = [];
  const call = async (baseUrl: string, timeoutMs = 2000) => {
    const result = await client({ baseUrl, timeoutMs }).groupInfo(GROUP);
    results.push(result);
    return result;
  };

  // A gateway that quotes the request, URL and all.
  let status = 502;
  let body = (url: string) => `<html>Bad gateway for ${url}</html>`;
  const url = await serve((requestUrl, response) => response.writeHead(status).end(body(requestUrl)));
  expect(await call(url)).toMatchObject({
    ok: false,
    code: NO_TENCENT_CODE,
    kind: 'retry',
    info: expect.stringContaining('HTTP 502'),
  });
  status = 429;
  expect(await call(url)).toMatchObject({ ok: false, kind: 'throttled' });
  status = 404;
  expect(await call(url)).toMatchObject({ ok: false, kind: 'fatal' });
  status = 200;
  expect(await call(url)).toMatchObject({ ok: false, kind: 'retry', info: expect.stringContaining('not JSON') });
  body = () => JSON.stringify({ hello: 'world' });
  expect(await call(url)).toMatchObject({ ok: false, kind: 'fatal', info: expect.stringContaining('ActionStatus') });
  // Tencent's ErrorInfo is redacted too, should it ever quote the URL.
  body = (requestUrl) => JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: 10002, ErrorInfo: `busy: ${requestUrl}` });
  expect(await call(url)).toMatchObject({ ok: false, code: 10002, kind: 'retry' });

  const hanging = await serve(() => {});
  expect(await call(hanging, 200)).toEqual({
    ok: false,
    code: NO_TENCENT_CODE,
    info: 'no answer within 200 ms',
    kind: 'retry',
  });

  await new Promise((resolve) => other?.close(resolve));
  other = undefined;
  expect(await call(hanging)).toMatchObject({
    ok: false,
    kind: 'retry',
    info: expect.stringContaining('ECONNREFUSED'),
  });

  expect(results.filter((r) => r.ok)).toEqual([]);
  for (const result of results) {
    const info = result.ok ? '' : result.info;
    expect(info).not.toContain(token);
    expect(info).not.toContain(KEY);
    expect(info).not.toMatch(/usersig=(?!\*\*\*)/);
  }
  expect(results.map((r) => (r.ok ? '' : r.info)).join('\n')).toContain('usersig=***');
});
