import { afterEach, beforeEach, expect, test } from 'vitest';
import { type FakeTencent, genUserSig, startFakeTencent } from '../index.js';
import { groupMessageBody } from './test-bodies.js';

// The fake's own checks, by plain fetch over 127.0.0.1: what a caller other than our client
// (a typo, another app's key) gets, in Tencent's envelope and always with HTTP 200.

const APP = '1400000001';
const OTHER_APP = '1400000002';
const KEYS = { [APP]: 'key-one', [OTHER_APP]: 'key-two' };
const GROUP = '@TGS#2J4SZEAEL';
const NOW = new Date(1_700_000_000_000);

let fake: FakeTencent;

beforeEach(async () => {
  fake = await startFakeTencent({ apps: KEYS, clock: () => NOW });
  fake.record(APP, groupMessageBody(GROUP, 1));
});

afterEach(async () => {
  await fake.close();
});

function sig(fields: { app?: string; key?: string; identifier?: string; now?: Date } = {}) {
  return genUserSig({
    sdkAppId: fields.app ?? APP,
    secretKey: fields.key ?? KEYS[APP],
    identifier: fields.identifier ?? 'administrator',
    expireSeconds: 3600,
    now: fields.now ?? NOW,
  });
}

async function post(path: string, body: unknown, query: Record<string, string | undefined> = {}) {
  const params = new URLSearchParams();
  const all = {
    sdkappid: APP,
    identifier: 'administrator',
    usersig: sig(),
    random: '42',
    contenttype: 'json',
    ...query,
  };
  for (const [name, value] of Object.entries(all)) {
    if (value !== undefined) {
      params.set(name, value);
    }
  }
  const response = await fetch(`${fake.url}${path}?${params}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const HISTORY = '/v4/group_open_http_svc/group_msg_get_simple';
const history = { GroupId: GROUP, ReqMsgNumber: 20 };

test('the URL and the UserSig are checked first, each with its code, with HTTP 200', async () => {
  const code = async (query: Record<string, string | undefined>) => {
    const { status, json } = await post(HISTORY, history, query);
    expect(status).toBe(200);
    expect(json.ActionStatus).toBe('FAIL');
    return json.ErrorCode;
  };
  expect(await code({ sdkappid: undefined })).toBe(60012);
  expect(await code({ sdkappid: '1400009999' })).toBe(70020);
  expect(await code({ random: undefined })).toBe(60002);
  expect(await code({ random: '4294967296' })).toBe(60002);
  expect(await code({ contenttype: 'xml' })).toBe(60002);
  expect(await code({ usersig: undefined })).toBe(60004);
  expect(await code({ usersig: 'garbage' })).toBe(70009);
  expect(await code({ usersig: sig({ key: 'wrong' }) })).toBe(70009);
  expect(await code({ usersig: sig({ app: OTHER_APP, key: KEYS[OTHER_APP] }) })).toBe(70014);
  expect(await code({ usersig: sig({ now: new Date(NOW.getTime() - 3601_000) }) })).toBe(70001);
  expect(await code({ identifier: 'lin.wei' })).toBe(70013);
  expect(await code({ identifier: 'lin.wei', usersig: sig({ identifier: 'lin.wei' }) })).toBe(60010);
  expect(fake.calls('group_msg_get_simple')).toBe(12);
});

test('then the body: JSON (60003), the fields (10004), ReqMsgNumber ≤ 20; an unknown API is 60009', async () => {
  expect((await post(HISTORY, '{')).json.ErrorCode).toBe(60003);
  expect((await post(HISTORY, [])).json.ErrorCode).toBe(60003);
  expect((await post(HISTORY, { GroupId: GROUP })).json).toMatchObject({ ErrorCode: 10004 });
  const tooMany = await post(HISTORY, { GroupId: GROUP, ReqMsgNumber: 21 });
  expect(tooMany.json).toMatchObject({ ErrorCode: 10004, ErrorInfo: expect.stringContaining('at most 20') });
  const topic = await post('/v4/million_group_open_http_svc/get_topic', { GroupId: GROUP });
  expect(topic.json).toMatchObject({ ErrorCode: 10004, ErrorInfo: expect.stringContaining('From_Account') });
  expect((await post('/v4/group_open_http_svc/send_group_msg', {})).json).toMatchObject({ ErrorCode: 60009 });
  expect((await post('/elsewhere', {})).status).toBe(404);
});

test("Tencent's answer shapes", async () => {
  expect((await post(HISTORY, history)).json).toEqual({
    ActionStatus: 'OK',
    ErrorCode: 0,
    ErrorInfo: '',
    GroupId: GROUP,
    IsFinished: 1,
    RspMsgList: [
      {
        From_Account: 'lin.wei',
        IsPlaceMsg: 0,
        MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello 1' } }],
        MsgPriority: 2,
        MsgRandom: 7001,
        MsgSeq: 1,
        MsgTimeStamp: 1_699_990_001,
      },
    ],
  });
  const info = await post('/v4/group_open_http_svc/get_group_info', { GroupIdList: [GROUP, 'nobody'] });
  expect(info.json).toEqual({
    ActionStatus: 'OK',
    ErrorCode: 0,
    ErrorInfo: '',
    GroupInfo: [
      { GroupId: GROUP, ErrorCode: 0, ErrorInfo: '', Type: 'Public', NextMsgSeq: 2 },
      { GroupId: 'nobody', ErrorCode: 10010, ErrorInfo: expect.any(String) },
    ],
  });
  fake.setGroupType(APP, 'community', 'Community');
  fake.recordSystem(APP, 'community', 'community@TOPIC#_a', 9);
  const topics = await post('/v4/million_group_open_http_svc/get_topic', {
    GroupId: 'community',
    From_Account: 'administrator',
  });
  expect(topics.json).toMatchObject({
    ActionStatus: 'OK',
    TopicAndSelfInfo: [
      { ErrorCode: 0, TopicInfo: { TopicId: 'community@TOPIC#_a', GroupID: 'community', NextMsgSeq: 10 } },
    ],
  });
  const notCommunity = await post('/v4/million_group_open_http_svc/get_topic', {
    GroupId: GROUP,
    From_Account: 'administrator',
  });
  expect(notCommunity.json).toMatchObject({ ErrorCode: 10004 });
});

test('throttle: every Nth call, counted after the signature check', async () => {
  fake.throttle({ everyNth: 3 });
  const codes = [];
  for (let i = 0; i < 6; i += 1) {
    codes.push((await post(HISTORY, history)).json.ErrorCode);
  }
  expect(codes).toEqual([0, 0, 60018, 0, 0, 60018]);
  expect((await post(HISTORY, history, { usersig: 'garbage' })).json.ErrorCode).toBe(70009);
  expect((await post(HISTORY, history)).json.ErrorCode).toBe(0);
  expect(() => fake.throttle({ everyNth: -1 })).toThrow('everyNth');
});

test('another process records through POST /fake/record and reads GET /fake/history', async () => {
  const body = JSON.stringify(groupMessageBody(GROUP, 2, { TopicId: '', From_Account: 'amara_k', OnlineOnlyFlag: 0 }));
  const record = (payload: unknown) =>
    fetch(`${fake.url}/fake/record`, { method: 'POST', body: JSON.stringify(payload) });
  const kept = await record({ sdkAppId: APP, body });
  expect(kept.status).toBe(200);
  expect(await kept.json()).toEqual({ kept: true });
  const notKept = await record({ sdkAppId: APP, body: { ...JSON.parse(body), MsgSeq: 3, OnlineOnlyFlag: 1 } });
  expect(await notKept.json()).toEqual({ kept: false });
  expect((await record({ sdkAppId: '1', body })).status).toBe(400);
  const bad = await record({ sdkAppId: APP, body: { GroupId: GROUP } });
  expect(bad.status).toBe(400);
  expect(await bad.json()).toMatchObject({ error: expect.stringContaining('not a Group.CallbackAfterSendMsg') });

  const dump = await fetch(`${fake.url}/fake/history?sdkAppId=${APP}&groupId=${encodeURIComponent(GROUP)}`);
  expect(await dump.json()).toMatchObject({
    groups: [
      {
        groupId: GROUP,
        type: 'Public',
        streams: [{ topicId: '', nextMsgSeq: 4, items: [{ MsgSeq: 1 }, { MsgSeq: 2, From_Account: 'amara_k' }] }],
      },
    ],
  });
  // Debug routes are no API calls.
  expect(fake.calls()).toBe(0);
});
