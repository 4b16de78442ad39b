import { loadFixture, loadFixtures } from '@imsync/fixtures';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { formatIssues } from './issues.js';
import { CallbackEnvelopeSchema, callbackCommandOf, GroupMessageSchema } from './schemas/group-message.js';

const base = loadFixture('text-public').body;

/** A valid body (text-public) with some top-level fields replaced. */
const bodyWith = (fields: Record<string, unknown>): Record<string, unknown> => ({
  ...structuredClone(base),
  ...fields,
});

/** A valid body with one top-level field removed. */
function bodyWithout(field: string): Record<string, unknown> {
  const body = structuredClone(base);
  delete body[field];
  return body;
}

function parse(input: unknown) {
  const result = v.safeParse(GroupMessageSchema, input);
  if (!result.success) {
    throw new Error(`expected a valid body, got: ${formatIssues(result.issues)}`);
  }
  return result.output;
}

/** The distinct dot paths of the issues; empty means the body was accepted. */
function issuePaths(input: unknown): (string | null)[] {
  const result = v.safeParse(GroupMessageSchema, input);
  return result.success ? [] : [...new Set(result.issues.map((issue) => v.getDotPath(issue)))];
}

describe('GroupMessageSchema: fixtures', () => {
  test.each(loadFixtures().map((f) => [f.name, f] as const))('%s parses with nothing dropped', (_name, fixture) => {
    const output = parse(fixture.body);
    // Only EventTime may change (digit string → number); every other field comes out as it went in.
    const expected =
      typeof fixture.body.EventTime === 'string'
        ? { ...fixture.body, EventTime: Number(fixture.body.EventTime) }
        : fixture.body;
    expect(output).toEqual(expected);
  });
});

describe('GroupMessageSchema: loose objects', () => {
  test('keeps unknown top-level fields', () => {
    const output = parse(bodyWith({ NickName: 'Lin', FutureField: { nested: [1, 'two'] } }));
    expect(output.NickName).toBe('Lin');
    expect(output.FutureField).toEqual({ nested: [1, 'two'] });
  });

  test('keeps unknown fields inside MsgContent and beside MsgType', () => {
    const output = parse(
      bodyWith({ MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi', Lang: 'en' }, ElemId: 'e-1' }] }),
    );
    expect(output.MsgBody).toEqual([{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi', Lang: 'en' }, ElemId: 'e-1' }]);
  });

  test('tolerates an absent Operator_Account (spec §4: "tolerate absence")', () => {
    expect(issuePaths(bodyWithout('Operator_Account'))).toEqual([]);
  });
});

describe('GroupMessageSchema: identity fields are exact, never coerced', () => {
  // A digit string or a rounded number would make a different dedup key for the same message.
  test.each([
    ['MsgSeq', '123'],
    ['MsgSeq', -1],
    ['MsgSeq', 1.5],
    ['MsgSeq', 4294967296],
    ['MsgSeq', Number.POSITIVE_INFINITY], // what JSON.parse makes of 1e999
    ['MsgSeq', null],
    ['Random', '123'],
    ['Random', -1],
    ['Random', 1.5],
    ['Random', 4294967296],
    ['GroupId', ''],
    ['GroupId', 123],
    ['GroupId', 'g'.repeat(257)],
    ['TopicId', 7],
    ['MsgTime', '1767583321'],
    ['MsgTime', 1767583321.5],
    ['MsgBody', []],
    ['MsgBody', {}],
    ['CallbackCommand', 'Group.CallbackBeforeSendMsg'],
    ['CallbackCommand', 'group.callbackaftersendmsg'],
    ['Type', 1],
    ['From_Account', null],
  ])('rejects %s = %o at that path', (field, value) => {
    expect(issuePaths(bodyWith({ [field]: value }))).toEqual([field]);
  });

  test.each([
    ['MsgSeq', 0],
    ['MsgSeq', 4294967295],
    ['Random', 0],
    ['Random', 4294967295],
  ])('accepts %s = %o', (field, value) => {
    expect(parse(bodyWith({ [field]: value }))[field]).toBe(value);
  });

  test.each(['CallbackCommand', 'GroupId', 'Type', 'From_Account', 'Random', 'MsgSeq', 'MsgTime', 'MsgBody'])(
    'rejects a body without %s',
    (field) => {
      expect(issuePaths(bodyWithout(field))).toEqual([field]);
    },
  );

  test.each([null, 'text', 5, [1]])('rejects a body that is %o', (input) => {
    expect(issuePaths(input).length).toBeGreaterThan(0);
  });
});

describe('GroupMessageSchema: EventTime', () => {
  test('keeps a number', () => {
    expect(parse(bodyWith({ EventTime: 1767584112058 })).EventTime).toBe(1767584112058);
  });

  test('normalises a digit string to the same number', () => {
    expect(parse(bodyWith({ EventTime: '1767584112058' })).EventTime).toBe(1767584112058);
  });

  test.each(['12a', '', ' 1767584112058', '-1', '1.5', '99999999999999999', 1.5, -1])('rejects %o', (eventTime) => {
    expect(issuePaths(bodyWith({ EventTime: eventTime }))).toEqual(['EventTime']);
  });

  test('may be absent', () => {
    const output = parse(bodyWithout('EventTime'));
    expect(output.EventTime).toBeUndefined();
    expect(Object.hasOwn(output, 'EventTime')).toBe(false);
  });
});

describe('GroupMessageSchema: flags and @-mentions', () => {
  test.each([0, 1])('accepts OnlineOnlyFlag %o', (flag) => {
    expect(parse(bodyWith({ OnlineOnlyFlag: flag })).OnlineOnlyFlag).toBe(flag);
  });

  test.each([2, -1, true, '1'])('rejects OnlineOnlyFlag %o', (flag) => {
    expect(issuePaths(bodyWith({ OnlineOnlyFlag: flag }))).toEqual(['OnlineOnlyFlag']);
  });

  test('accepts @all plus named accounts and keeps them in order', () => {
    const GroupAtInfo = [
      { GroupAtAllFlag: 1 },
      { GroupAtAllFlag: 0, GroupAt_Account: 'lin.wei' },
      { GroupAtAllFlag: 0, GroupAt_Account: 'u_48213' },
    ];
    expect(parse(bodyWith({ GroupAtInfo })).GroupAtInfo).toEqual(GroupAtInfo);
  });

  test.each([
    [[{ GroupAtAllFlag: 2 }], 'GroupAtInfo.0.GroupAtAllFlag'],
    [[{ GroupAtAllFlag: 0, GroupAt_Account: 5 }], 'GroupAtInfo.0.GroupAt_Account'],
    [[{ GroupAt_Account: 'lin.wei' }], 'GroupAtInfo.0.GroupAtAllFlag'],
    [{ GroupAtAllFlag: 1 }, 'GroupAtInfo'],
  ])('rejects GroupAtInfo %j at %s', (GroupAtInfo, path) => {
    expect(issuePaths(bodyWith({ GroupAtInfo }))).toEqual([path]);
  });
});

describe('GroupMessageSchema: only what the archive stores faithfully', () => {
  test.each(['GroupId', 'TopicId', 'From_Account', 'Operator_Account', 'Type', 'MsgId'])(
    '%s with U+0000 or an unpaired surrogate is refused; a paired one is fine',
    (field) => {
      expect(issuePaths(bodyWith({ [field]: 'a\u0000b' }))).toEqual([field]);
      expect(issuePaths(bodyWith({ [field]: 'a\ud800' }))).toEqual([field]);
      expect(issuePaths(bodyWith({ [field]: '\udfffa' }))).toEqual([field]);
      expect(issuePaths(bodyWith({ [field]: 'a\ud83d\ude00\ufffd' }))).toEqual([]);
    },
  );

  test('times are bounded by the year 9999, in seconds and in milliseconds', () => {
    expect(issuePaths(bodyWith({ MsgTime: 253_402_300_799 }))).toEqual([]);
    expect(issuePaths(bodyWith({ MsgTime: 253_402_300_800 }))).toEqual(['MsgTime']);
    expect(issuePaths(bodyWith({ EventTime: 253_402_300_799_999 }))).toEqual([]);
    expect(issuePaths(bodyWith({ EventTime: '253402300800000' }))).toEqual(['EventTime']);
  });
});

describe('callbackCommandOf', () => {
  // Whatever JSON.parse can return, and a body's command of every type.
  test.each([
    ['a body', base],
    ['another command', { CallbackCommand: 'State.StateChange', Info: {} }],
    ['an empty command', { CallbackCommand: '' }],
    ['a number', { CallbackCommand: 1 }],
    ['null', { CallbackCommand: null }],
    ['an object', { CallbackCommand: { CallbackCommand: 'Group.CallbackAfterSendMsg' } }],
    ['an array of commands', ['Group.CallbackAfterSendMsg']],
    ['no command', { callbackCommand: 'Group.CallbackAfterSendMsg' }],
    ['an empty object', {}],
    ['a command in the prototype key', JSON.parse('{"__proto__":{"CallbackCommand":"Group.CallbackAfterSendMsg"}}')],
    ['a string', 'Group.CallbackAfterSendMsg'],
    ['a number body', 7],
    ['true', true],
    ['JSON null', null],
  ])('reads %s as CallbackEnvelopeSchema does', (_name, value) => {
    const envelope = v.safeParse(CallbackEnvelopeSchema, value);
    expect(callbackCommandOf(value)).toBe(envelope.success ? envelope.output.CallbackCommand : undefined);
  });
});
