import { loadCallbackFixtures } from '@imsync/fixtures';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { CALLBACK_CATALOG, parseCallback, routeKeyOf, SUPPORTED_COMMANDS } from './catalog.js';
import { formatIssues } from './issues.js';

const SDK_APP_ID = '1600012345';
const FIXTURES = loadCallbackFixtures();

const definitionOf = (command: string) => {
  const definition = CALLBACK_CATALOG[command];
  if (!definition) {
    throw new Error(`not in the catalog: ${command}`);
  }
  return definition;
};

const keyOf = (command: string, body: unknown) => {
  const parsed = parseCallback(definitionOf(command), SDK_APP_ID, body);
  if (!parsed.ok) {
    throw new Error(formatIssues(parsed.issues));
  }
  return parsed.key;
};

/** A fixture's body with some top-level fields replaced. */
const withFields = (name: string, fields: Record<string, unknown>) => {
  const fixture = FIXTURES.find((f) => f.name === name);
  if (!fixture) {
    throw new Error(`no fixture ${name}`);
  }
  return { ...structuredClone(fixture.body), ...fields };
};

test('the catalog has the nine after-event commands, each with fixtures', () => {
  expect(SUPPORTED_COMMANDS).toHaveLength(9);
  for (const command of SUPPORTED_COMMANDS) {
    expect(FIXTURES.filter((f) => f.command === command).length, command).toBeGreaterThan(0);
  }
});

test.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
  'a command named %s, as a request or a forged job may carry, finds nothing in the catalog',
  (command) => {
    expect(CALLBACK_CATALOG[command]).toBeUndefined();
  },
);

describe.each(FIXTURES.map((f) => [f.name, f] as const))('fixture %s', (_name, fixture) => {
  test('parses with its command schema, keeps its unknown fields, and has a key of its kind', () => {
    const definition = definitionOf(fixture.command);
    const parsed = parseCallback(definition, SDK_APP_ID, fixture.body);
    expect(parsed.ok ? [] : formatIssues(parsed.issues)).toEqual([]);
    if (parsed.ok) {
      expect(parsed.key).toMatch(/^(gm|gr|cm|cw|ge)-[0-9a-f]{32}$/);
      expect(Object.keys(parsed.body as object)).toEqual(expect.arrayContaining(Object.keys(fixture.body)));
    }
  });

  test('another command schema refuses it (the command decides)', () => {
    const other = SUPPORTED_COMMANDS.find((c) => c !== fixture.command) ?? '';
    expect(v.safeParse(definitionOf(other).schema, fixture.body).success).toBe(false);
  });
});

describe('keys', () => {
  test('a group recall is the same event whatever the order of its MsgSeqList', () => {
    const body = withFields('Group.CallbackAfterRecallMsg/several-intl', {});
    const reordered = { ...body, MsgSeqList: [{ MsgSeq: 1842 }, { MsgSeq: 1843 }] };
    expect(keyOf('Group.CallbackAfterRecallMsg', reordered)).toBe(keyOf('Group.CallbackAfterRecallMsg', body));
    expect(keyOf('Group.CallbackAfterRecallMsg', { ...body, TopicId: 't' })).not.toBe(
      keyOf('Group.CallbackAfterRecallMsg', body),
    );
  });

  test('a C2C message is (app, from, to, MsgKey); its withdrawal has a key of its own', () => {
    const send = withFields('C2C.CallbackAfterSendMsg/text-cn', {});
    const key = keyOf('C2C.CallbackAfterSendMsg', send);
    expect(keyOf('C2C.CallbackAfterSendMsg', { ...send, EventTime: 1, UnreadMsgNum: 0 })).toBe(key);
    expect(keyOf('C2C.CallbackAfterSendMsg', { ...send, To_Account: 'x' })).not.toBe(key);
    const withdraw = withFields('C2C.CallbackAfterMsgWithDraw/cn', {});
    expect(keyOf('C2C.CallbackAfterMsgWithDraw', withdraw)).not.toBe(key);
  });

  test('membership events: member order does not matter, members and time do', () => {
    const joined = withFields('Group.CallbackAfterNewMemberJoin/invited', {});
    const key = keyOf('Group.CallbackAfterNewMemberJoin', joined);
    const reversed = { ...joined, NewMemberList: [{ Member_Account: 'tommy' }, { Member_Account: 'jared' }] };
    expect(keyOf('Group.CallbackAfterNewMemberJoin', reversed)).toBe(key);
    expect(keyOf('Group.CallbackAfterNewMemberJoin', { ...joined, EventTime: 1 })).not.toBe(key);
    expect(keyOf('Group.CallbackAfterNewMemberJoin', { ...joined, NewMemberList: [{ Member_Account: 'x' }] })).not.toBe(
      key,
    );
  });

  test('EventTime as a digit string or a number is the same event', () => {
    const changed = withFields('Group.CallbackAfterGroupInfoChanged/notification-intl', {});
    expect(keyOf('Group.CallbackAfterGroupInfoChanged', changed)).toBe(
      keyOf('Group.CallbackAfterGroupInfoChanged', { ...changed, EventTime: Number(changed.EventTime) }),
    );
  });

  test('the same fields under two commands, or two apps, are two events', () => {
    const created = withFields('Group.CallbackAfterCreateGroup/public', {});
    const destroyed = { ...created, CallbackCommand: 'Group.CallbackAfterGroupDestroyed' };
    expect(keyOf('Group.CallbackAfterCreateGroup', created)).not.toBe(
      keyOf('Group.CallbackAfterGroupDestroyed', destroyed),
    );
    const definition = definitionOf('Group.CallbackAfterCreateGroup');
    const other = parseCallback(definition, '1400000001', created);
    expect(other.ok && other.key).not.toBe(keyOf('Group.CallbackAfterCreateGroup', created));
  });
});

describe('schemas refuse what the archive cannot key or store', () => {
  test.each([
    ['Group.CallbackAfterRecallMsg/several-intl', { MsgSeqList: [] }],
    ['Group.CallbackAfterRecallMsg/several-intl', { MsgSeqList: [{ MsgSeq: '1842' }] }],
    ['Group.CallbackAfterRecallMsg/several-intl', { GroupId: 'a\u0000' }],
    ['C2C.CallbackAfterSendMsg/text-cn', { MsgKey: '' }],
    ['C2C.CallbackAfterSendMsg/text-cn', { To_Account: '\ud800' }],
    ['C2C.CallbackAfterSendMsg/text-cn', { MsgRandom: -1 }],
    ['C2C.CallbackAfterMsgWithDraw/cn', { MsgKey: undefined }],
    ['Group.CallbackAfterNewMemberJoin/invited', { NewMemberList: [{ Member_Account: 7 }] }],
    ['Group.CallbackAfterMemberExit/kicked', { ExitMemberList: undefined }],
    ['Group.CallbackAfterCreateGroup/public', { GroupId: '' }],
  ])('%s with %o', (name, fields) => {
    const fixture = FIXTURES.find((f) => f.name === name);
    const body = withFields(name, fields);
    expect(parseCallback(definitionOf(fixture?.command ?? ''), SDK_APP_ID, body).ok).toBe(false);
  });
});

test("an event's route key is its group, or its C2C conversation whichever way the message went", () => {
  expect(routeKeyOf({ GroupId: '@TGS#2QH7MZ4NE', From_Account: 'a' })).toBe('@TGS#2QH7MZ4NE');
  expect(routeKeyOf({ From_Account: 'lin.wei', To_Account: 'amara_k' })).toBe(
    routeKeyOf({ From_Account: 'amara_k', To_Account: 'lin.wei' }),
  );
  expect(routeKeyOf({})).toBeUndefined();
});
