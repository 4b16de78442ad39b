import { loadFixtures } from '@imsync/fixtures';
import { MessageFactory } from '@imsync/simulator';
import { expect, test } from 'vitest';
import { createHistoryStore } from './store.js';
import { groupMessageBody } from './test-bodies.js';

const APP = '1400000001';
const GROUP = '@TGS#2J4SZEAEL';

const message = (seq: number, fields: Record<string, unknown> = {}) => groupMessageBody(GROUP, seq, fields);

const query = (fields: Partial<Parameters<ReturnType<typeof createHistoryStore>['history']>[1]> = {}) => ({
  groupId: GROUP,
  topicId: '',
  reqMsgSeq: undefined,
  reqMsgNumber: 20,
  withRecalled: true,
  ...fields,
});

test('a callback body becomes the item Tencent returns', () => {
  const store = createHistoryStore(() => new Date());
  expect(store.record(APP, JSON.stringify(message(5, { MsgPriority: 1 })))).toBe(true);
  expect(store.history(APP, query())).toEqual([
    {
      From_Account: 'lin.wei',
      IsPlaceMsg: 0,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello 5' } }],
      MsgPriority: 1,
      MsgRandom: 7005,
      MsgSeq: 5,
      MsgTimeStamp: 1_699_990_005,
    },
  ]);
  expect(() => store.record(APP, { ...message(6), MsgSeq: '6' })).toThrow('MsgSeq');
  expect(() => store.record(APP, '{')).toThrow('not JSON');
});

test('a page is the seq range below ReqMsgSeq, newest first; a seq with nothing kept is left out', () => {
  const store = createHistoryStore(() => new Date());
  for (const seq of [1, 2, 3, 5, 6, 7, 8]) {
    store.record(APP, message(seq));
  }
  const seqs = (fields: Parameters<typeof query>[0]) => store.history(APP, query(fields))?.map((i) => i.MsgSeq);
  expect(seqs({ reqMsgNumber: 3 })).toEqual([8, 7, 6]);
  expect(seqs({ reqMsgSeq: 6, reqMsgNumber: 3 })).toEqual([6, 5]);
  expect(seqs({ reqMsgSeq: 2, reqMsgNumber: 20 })).toEqual([2, 1]);
  // A range, not a count: seqs 81 to 100 hold nothing.
  expect(seqs({ reqMsgSeq: 100, reqMsgNumber: 20 })).toEqual([]);
  expect(seqs({ reqMsgSeq: 20, reqMsgNumber: 20 })).toEqual([8, 7, 6, 5, 3, 2, 1]);
  expect(seqs({ reqMsgSeq: 27, reqMsgNumber: 20 })).toEqual([8]);
  expect(store.history(APP, query({ groupId: 'nobody' }))).toBeUndefined();
  expect(store.nextMsgSeq(APP, GROUP, '')).toBe(9);
});

test('online-only messages and AVChatRoom groups are not kept, but use up their seq', () => {
  const store = createHistoryStore(() => new Date());
  expect(store.record(APP, message(10, { OnlineOnlyFlag: 1 }))).toBe(false);
  expect(store.record(APP, message(1, { GroupId: 'live', Type: 'AVChatRoom' }))).toBe(false);
  expect(store.history(APP, query())).toEqual([]);
  expect(store.nextMsgSeq(APP, GROUP, '')).toBe(11);
  expect(store.lookup(APP, 'live')).toEqual({ found: true, type: 'AVChatRoom' });
  expect(store.nextMsgSeq(APP, 'live', '')).toBe(2);
});

test('topics are streams of their own, with their own NextMsgSeq; the group keeps its own', () => {
  const store = createHistoryStore(() => new Date());
  const topic = `${GROUP}@TOPIC#_general`;
  store.record(APP, message(3, { Type: 'Community' }));
  store.record(APP, message(40, { Type: 'Community', TopicId: topic }));
  store.record(APP, message(41, { Type: 'Community', TopicId: '' }));
  expect(store.topics(APP, GROUP)).toEqual([topic]);
  expect(store.nextMsgSeq(APP, GROUP, '')).toBe(42);
  expect(store.nextMsgSeq(APP, GROUP, topic)).toBe(41);
  expect(store.nextMsgSeq(APP, GROUP, 'no such topic')).toBe(1);
  expect(store.history(APP, query({ topicId: topic }))?.map((i) => i.MsgSeq)).toEqual([40]);
});

test('recalled (shown only when asked), expired and system seqs', () => {
  const at = new Date(1_700_001_000_000);
  const store = createHistoryStore(() => at);
  for (const seq of [1, 2, 3]) {
    store.record(APP, message(seq));
  }
  store.markRecalled(APP, GROUP, '', [2]);
  store.markExpired(APP, GROUP, '', [1, 0]);
  store.recordSystem(APP, GROUP, '', 4);
  expect(store.history(APP, query())).toEqual([
    expect.objectContaining({ MsgSeq: 4, IsSystemMsg: 1, IsPlaceMsg: 0, MsgBody: [], MsgTimeStamp: 1_700_001_000 }),
    expect.objectContaining({ MsgSeq: 3, IsPlaceMsg: 0 }),
    expect.objectContaining({ MsgSeq: 2, IsPlaceMsg: 2, MsgBody: [], From_Account: 'lin.wei' }),
    expect.objectContaining({ MsgSeq: 1, IsPlaceMsg: 1, MsgBody: [] }),
    { MsgSeq: 0, IsPlaceMsg: 1, MsgBody: [] },
  ]);
  expect(store.history(APP, query({ withRecalled: false }))?.map((i) => i.MsgSeq)).toEqual([4, 3, 1, 0]);
  expect(() => store.markRecalled(APP, GROUP, '', [9])).toThrow('no message 9');
  expect(() => store.recordSystem(APP, 'nobody', '', 1)).toThrow('no group nobody');
});

test('a removed group is gone for good: nothing found, nothing kept', () => {
  const store = createHistoryStore(() => new Date());
  store.record(APP, message(1));
  store.removeGroup(APP, GROUP);
  expect(store.lookup(APP, GROUP)).toEqual({ found: false });
  expect(store.history(APP, query())).toBeUndefined();
  expect(store.record(APP, message(2))).toBe(false);
  expect(() => store.setGroupType(APP, GROUP, 'Public')).toThrow('removed');
  // Another app's group of the same id is another group.
  expect(store.record('1400000002', message(1))).toBe(true);
});

test("the simulator's and the fixtures' bodies: kept unless online-only or AVChatRoom", () => {
  const store = createHistoryStore(() => new Date());
  const factory = new MessageFactory({ seed: 7, groups: 10 });
  const bodies = [...Array.from({ length: 300 }, () => factory.next().body), ...loadFixtures().map((f) => f.text)];
  for (const text of bodies) {
    const body = JSON.parse(text) as Record<string, unknown>;
    const kept = store.record(APP, text);
    expect(kept, text).toBe(body.Type !== 'AVChatRoom' && body.OnlineOnlyFlag !== 1);
    if (kept) {
      const [item] = store.history(APP, {
        groupId: body.GroupId as string,
        topicId: (body.TopicId as string | undefined) ?? '',
        reqMsgSeq: body.MsgSeq as number,
        reqMsgNumber: 1,
        withRecalled: true,
      }) ?? [undefined];
      expect(item).toMatchObject({ MsgRandom: body.Random, MsgBody: body.MsgBody, From_Account: body.From_Account });
    }
  }
});
