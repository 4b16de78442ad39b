import { loadFixture } from '@imsync/fixtures';
import * as v from 'valibot';
import { afterEach, describe, expect, test } from 'vitest';
import { formatIssues } from './issues.js';
import { parseJsonText } from './json-body.js';
import { GroupMessageSchema } from './schemas/group-message.js';

// A body is attacker-controlled text. JSON.parse turns "__proto__" into an own property; the
// danger is code that later copies it with plain assignment, which swaps an object's prototype.

const POISON = '"__proto__": {"polluted": true}';

function parseText(text: string) {
  const decoded = parseJsonText(text);
  if (!decoded.ok) {
    throw new Error(decoded.detail);
  }
  const result = v.safeParse(GroupMessageSchema, decoded.value);
  if (!result.success) {
    throw new Error(formatIssues(result.issues));
  }
  return { input: decoded.value as Record<string, unknown>, output: result.output };
}

/** The first element's MsgContent. */
function contentOf(message: { MsgBody: { MsgContent?: unknown }[] }): object {
  const content = message.MsgBody[0]?.MsgContent;
  if (typeof content !== 'object' || content === null) {
    throw new Error('no object MsgContent');
  }
  return content;
}

afterEach(() => {
  // Never let a failure here leak into other tests of the same worker.
  delete (Object.prototype as Record<string, unknown>).polluted;
});

describe('"__proto__" keys in a body', () => {
  // text-public with the key at the top level and inside the text element's MsgContent.
  const text = loadFixture('text-public')
    .text.replace('"CallbackCommand"', `${POISON}, "CallbackCommand"`)
    .replace('"Text"', `${POISON}, "Text"`);

  test('the test input really carries the keys as own properties', () => {
    const { input } = parseText(text);
    expect(Object.hasOwn(input, '__proto__')).toBe(true);
    expect(Object.hasOwn(contentOf(input as { MsgBody: { MsgContent: unknown }[] }), '__proto__')).toBe(true);
  });

  test('do not reach Object.prototype or any output prototype', () => {
    const { output } = parseText(text);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(contentOf(output))).toBe(Object.prototype);
    // Had the key been copied by assignment, these would inherit `polluted` from a swapped prototype.
    expect((output as Record<string, unknown>).polluted).toBeUndefined();
    expect((contentOf(output) as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('are dropped from validated objects, which keep their real fields', () => {
    const { output } = parseText(text);
    expect(Object.hasOwn(output, '__proto__')).toBe(false);
    expect(Object.hasOwn(contentOf(output), '__proto__')).toBe(false);
    expect(contentOf(output)).toEqual({ Text: 'Standup moved to 10:30, room B.' });
    expect(output.MsgSeq).toBe(1842);
  });

  test('are dropped inside a forwarded message of a relay element', () => {
    const relay = loadFixture('relay-merged').text.replace(
      '"From_Account": "lin.wei"',
      `${POISON}, "From_Account": "lin.wei"`,
    );
    const { output } = parseText(relay);
    const content = contentOf(output) as { MsgList: object[] };
    const [forwarded] = content.MsgList;
    expect(forwarded && Object.hasOwn(forwarded, '__proto__')).toBe(false);
    expect(forwarded && Object.getPrototypeOf(forwarded)).toBe(Object.prototype);
  });

  // Raw values (unknown element contents, unknown fields) are kept as parsed, so an own
  // "__proto__" survives there. Harmless for JSON.stringify or spread; consumers must not
  // Object.assign or deep-merge these values into other objects.
  test('survive as a plain own property in an unknown element, without touching prototypes', () => {
    const body = loadFixture('text-public')
      .text.replace('"TIMTextElem"', '"TIMStreamElem"')
      .replace('"Text"', `${POISON}, "Text"`);
    const { output } = parseText(body);
    const content = contentOf(output);
    expect(Object.hasOwn(content, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(content)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(output)).toContain('"__proto__":{"polluted":true}');
  });

  // Documented behaviour of valibot's loose objects: these names are never copied.
  test('unknown top-level fields named constructor or prototype are dropped', () => {
    const body = loadFixture('text-public').text.replace('{', '{"constructor": 1, "prototype": 2, "kept": 3,');
    const { output } = parseText(body);
    expect(Object.hasOwn(output, 'constructor')).toBe(false);
    expect(Object.hasOwn(output, 'prototype')).toBe(false);
    expect(output.kept).toBe(3);
  });
});
