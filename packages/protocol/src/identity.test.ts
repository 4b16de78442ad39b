import { loadFixture } from '@imsync/fixtures';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { type MessageIdentity, messageIdentity, messageKey } from './identity.js';
import { GroupMessageSchema } from './schemas/group-message.js';

const SDK_APP_ID = '1600012345';

const identity: MessageIdentity = {
  sdkAppId: SDK_APP_ID,
  groupId: '@TGS#2QH7MZ4NE',
  topicId: '',
  msgSeq: 1842,
  random: 2718281828,
};

const keyWith = (fields: Partial<MessageIdentity>) => messageKey({ ...identity, ...fields });

describe('messageIdentity', () => {
  test('takes the identity fields of a message in a topic', () => {
    const message = v.parse(GroupMessageSchema, loadFixture('image-community-topic').body);
    expect(messageIdentity(SDK_APP_ID, message)).toEqual({
      sdkAppId: SDK_APP_ID,
      groupId: '@TGS#_@TGS#cR5YJ2WMB62Q',
      topicId: '@TGS#_@TGS#cR5YJ2WMB62Q@TOPIC#_release-notes',
      msgSeq: 311,
      random: 2884710362,
    });
  });

  test("uses '' as topicId when TopicId is absent", () => {
    const message = v.parse(GroupMessageSchema, loadFixture('community-group-level').body);
    expect(message.TopicId).toBeUndefined();
    expect(messageIdentity(SDK_APP_ID, message)).toEqual({
      sdkAppId: SDK_APP_ID,
      groupId: '@TGS#_@TGS#cR5YJ2WMB62Q',
      topicId: '',
      msgSeq: 1207,
      random: 640022811,
    });
  });

  test('the same message in two apps has two identities', () => {
    const message = v.parse(GroupMessageSchema, loadFixture('text-public').body);
    expect(messageKey(messageIdentity('1', message))).not.toBe(messageKey(messageIdentity('2', message)));
  });
});

describe('messageKey', () => {
  test('is deterministic and independent of field order', () => {
    const reordered: MessageIdentity = {
      random: identity.random,
      msgSeq: identity.msgSeq,
      topicId: identity.topicId,
      groupId: identity.groupId,
      sdkAppId: identity.sdkAppId,
    };
    expect(messageKey(identity)).toBe(messageKey({ ...identity }));
    expect(messageKey(reordered)).toBe(messageKey(identity));
  });

  // Keys are stored as BullMQ job ids and Redis dedupe markers: a silent change of the algorithm
  // would let every message in flight during a deploy be stored twice.
  test('is stable across releases', () => {
    expect(messageKey(identity)).toBe('gm-9cd2a3dfc344da4d51a63ea5aaa12086');
  });

  test('is gm- and 32 lowercase hex digits, with no ":" even when the ids contain one', () => {
    const key = keyWith({ groupId: 'a:b/c#d e', topicId: 'x:y@TOPIC#_z' });
    expect(key).toMatch(/^gm-[0-9a-f]{32}$/);
    expect(key).not.toContain(':');
  });

  test.each([
    ['sdkAppId', { sdkAppId: '1600012346' }],
    ['groupId', { groupId: '@TGS#2QH7MZ4NF' }],
    ['topicId', { topicId: '@TGS#2QH7MZ4NE@TOPIC#_a' }],
    ['msgSeq', { msgSeq: 1843 }],
    ['random', { random: 2718281829 }],
    ['msgSeq 0', { msgSeq: 0 }],
    ['random max', { random: 4294967295 }],
  ] as const)('changes when %s changes', (_label, change) => {
    expect(keyWith(change)).not.toBe(messageKey(identity));
  });

  // Each pair would collide under naive joining of the fields with a separator.
  test.each([
    [
      { groupId: 'x', topicId: 'y' },
      { groupId: 'x","y', topicId: '' },
    ],
    [
      { groupId: 'a', topicId: 'b' },
      { groupId: 'a|b', topicId: '' },
    ],
    [
      { groupId: 'a', topicId: 'b' },
      { groupId: 'a:b', topicId: '' },
    ],
    [
      { groupId: 'a', topicId: '' },
      { groupId: '', topicId: 'a' },
    ],
    [
      { sdkAppId: '1', groupId: '23' },
      { sdkAppId: '12', groupId: '3' },
    ],
    [
      { msgSeq: 12, random: 3 },
      { msgSeq: 1, random: 23 },
    ],
    [
      { msgSeq: 1, random: 2 },
      { msgSeq: 2, random: 1 },
    ],
    [{ groupId: '5' }, { groupId: '5', msgSeq: 5 }],
  ])('does not collide: %j vs %j', (a, b) => {
    expect(keyWith(a)).not.toBe(keyWith(b));
  });

  // Lone surrogates all become U+FFFD under plain UTF-8 encoding; JSON.stringify escapes them first.
  test('keeps distinct ids with lone surrogates distinct', () => {
    const keys = new Set(['\ud800', '\udc00', '\ufffd', '\ud800\ud800'].map((groupId) => keyWith({ groupId })));
    expect(keys.size).toBe(4);
  });
});

test('an empty TopicId is accepted and is the same identity as no TopicId', () => {
  const body = loadFixture('text-public').body;
  const withEmpty = v.parse(GroupMessageSchema, { ...body, TopicId: '' });
  const without = v.parse(GroupMessageSchema, body);
  expect(messageKey(messageIdentity('1', withEmpty))).toBe(messageKey(messageIdentity('1', without)));
});
