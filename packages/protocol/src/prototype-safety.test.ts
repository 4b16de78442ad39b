import { loadFixture } from '@imsync/fixtures';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { parseJsonText } from './json-body.js';
import { GroupMessageSchema } from './schemas/group-message.js';

// A body is attacker-controlled text, archived and forwarded verbatim to the app's own services,
// which may merge it into their objects. Tencent never sends these keys, so a body holding one
// anywhere is refused before validation.

const TEXT = loadFixture('text-public').text;
const RELAY = loadFixture('relay-merged').text;

/** Inserts `"key": value,` before the first occurrence of `before` in `text`. */
const withKey = (text: string, before: string, key: string, value = '{"polluted": true}') => {
  expect(text).toContain(before);
  return text.replace(before, `"${key}": ${value}, ${before}`);
};

describe.each(['__proto__', 'constructor', 'prototype'])('a "%s" key', (key) => {
  test.each([
    ['at the top level', TEXT, '"CallbackCommand"', key],
    ['in an element', TEXT, '"MsgContent"', `MsgBody[0].${key}`],
    ['in an element content', TEXT, '"Text"', `MsgBody[0].MsgContent.${key}`],
    ['in a forwarded message of a relay', RELAY, '"From_Account": "lin.wei"', /\.MsgList\[0\]\./],
  ])('is refused %s, with its path', (_where, text, before, path) => {
    const decoded = parseJsonText(withKey(text, before, key));
    expect(decoded).toMatchObject({ ok: false, reason: 'forbidden_key' });
    expect(decoded.ok === false && decoded.detail).toMatch(path);
    expect(decoded.ok === false && decoded.detail).toContain(`${key}: key not allowed`);
  });

  test('is refused when spelled with \\u escapes', () => {
    const escaped = [...key].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const decoded = parseJsonText(TEXT.replace('"CallbackCommand"', `"${escaped}": 1, "CallbackCommand"`));
    expect(decoded).toMatchObject({ ok: false, reason: 'forbidden_key' });
  });

  test('is fine as a value or inside a longer key', () => {
    const body = TEXT.replace('"Standup moved to 10:30, room B."', `"${key}"`).replace(
      '"CallbackCommand"',
      `"x${key}": "${key}", "CallbackCommand"`,
    );
    const decoded = parseJsonText(body);
    expect(decoded.ok).toBe(true);
    expect(v.safeParse(GroupMessageSchema, decoded.ok && decoded.value).success).toBe(true);
  });
});

test('refusing never touches Object.prototype', () => {
  parseJsonText(withKey(TEXT, '"Text"', '__proto__'));
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});
