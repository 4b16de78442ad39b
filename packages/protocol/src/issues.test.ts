import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { formatIssues } from './issues.js';
import { GroupMessageSchema } from './schemas/group-message.js';

function issuesOf(schema: v.GenericSchema, input: unknown): [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]] {
  const result = v.safeParse(schema, input);
  if (result.success) {
    throw new Error('expected issues');
  }
  return result.issues;
}

// Five fields, each wrong, so the count of issues is known.
const Five = v.object({ a: v.string(), b: v.string(), c: v.string(), d: v.string(), e: v.string() });
const fiveWrong = { a: 1, b: 2, c: 3, d: 4, e: 5 };

describe('formatIssues', () => {
  test('shows the first three issues with their paths, then how many more', () => {
    const text = formatIssues(issuesOf(Five, fiveWrong));
    expect(text).toBe(
      'a: Invalid type: Expected string but received 1; ' +
        'b: Invalid type: Expected string but received 2; ' +
        'c: Invalid type: Expected string but received 3 (+2 more)',
    );
  });

  test('adds no suffix when there are exactly three issues', () => {
    const text = formatIssues(issuesOf(Five, { ...fiveWrong, d: 'ok', e: 'ok' }));
    expect(text.split('; ')).toHaveLength(3);
    expect(text).not.toContain('more');
  });

  test('one issue is just "path: message"', () => {
    expect(formatIssues(issuesOf(Five, { ...fiveWrong, a: 'ok', b: 'ok', c: 'ok', d: 'ok' }))).toBe(
      'e: Invalid type: Expected string but received 5',
    );
  });

  test('the limit can be changed', () => {
    expect(formatIssues(issuesOf(Five, fiveWrong), 1)).toBe(
      'a: Invalid type: Expected string but received 1 (+4 more)',
    );
  });

  test('an issue without a path is its message alone', () => {
    expect(formatIssues(issuesOf(GroupMessageSchema, 'not an object'))).toBe(
      'Invalid type: Expected Object but received "not an object"',
    );
  });

  test('nested paths are dotted, array indexes included', () => {
    const body = {
      CallbackCommand: 'Group.CallbackAfterSendMsg',
      GroupId: 'g',
      Type: 'Public',
      From_Account: 'a',
      Random: 1,
      MsgSeq: 1,
      MsgTime: 1,
      MsgBody: [{ MsgType: 'TIMImageElem', MsgContent: { UUID: 'u', ImageFormat: 1, ImageInfoArray: [{}] } }],
    };
    // Five fields missing in the image info: Type, Size, Width shown, Height and URL counted.
    const text = formatIssues(issuesOf(GroupMessageSchema, body));
    const item = 'MsgBody.0.MsgContent.ImageInfoArray.0';
    const parts = text.replace(/ \(\+2 more\)$/, '').split('; ');
    expect(parts.map((part) => part.slice(0, part.indexOf(': ')))).toEqual([
      `${item}.Type`,
      `${item}.Size`,
      `${item}.Width`,
    ]);
    expect(text.endsWith(' (+2 more)')).toBe(true);
  });

  test('an empty body lists its first three missing fields and counts the other five', () => {
    const text = formatIssues(issuesOf(GroupMessageSchema, {}));
    expect(text).toMatch(/^CallbackCommand: .+; GroupId: .+; Type: .+ \(\+5 more\)$/);
  });
});
