import { loadFixtures } from '@imsync/fixtures';
import { describe, expect, test } from 'vitest';
import { DEFAULT_MAX_JSON_DEPTH, decodeJsonBody, exceedsDepth, parseJsonText } from './json-body.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((part) => (typeof part === 'string' ? [...utf8(part)] : part)));

const arrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const objects = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;

describe('decodeJsonBody: valid UTF-8', () => {
  test.each(loadFixtures().map((f) => [f.name, f] as const))('%s round-trips its text exactly', (_name, fixture) => {
    expect(decodeJsonBody(utf8(fixture.text))).toEqual({ ok: true, text: fixture.text, value: fixture.body });
  });

  test('keeps escapes, lone-surrogate escapes, emoji and CJK byte for byte', () => {
    // Escapes stay escapes in `text`; only `value` holds the decoded characters.
    const text = String.raw`{"nul":"a\u0000b","lone":"\ud800","pair":"\ud83d\ude00","raw":"😀 👩🏽‍💻 中文 한국어 مرحبا","q":"\"\\/"}`;
    const result = decodeJsonBody(utf8(text));
    expect(result).toEqual({
      ok: true,
      text,
      value: { nul: 'a\u0000b', lone: '\ud800', pair: '😀', raw: '😀 👩🏽‍💻 中文 한국어 مرحبا', q: '"\\/' },
    });
  });
});

describe('decodeJsonBody: invalid UTF-8 is refused, never replaced with U+FFFD', () => {
  test.each([
    ['a lone 0xff', bytes('{"Text":"', [0xff], '"}')],
    ['an overlong NUL (0xc0 0x80)', bytes('{"Text":"', [0xc0, 0x80], '"}')],
    ['a truncated 3-byte sequence', bytes('{"Text":"', [0xe4, 0xb8], '"}')],
    ['a truncated sequence at the very end', bytes('{"Text":"x"}', [0xe4])],
    ['an encoded surrogate (CESU-8)', bytes('{"Text":"', [0xed, 0xa0, 0x80], '"}')],
    ['a stray continuation byte', bytes('{"Text":"', [0x80], '"}')],
    ['a code point above U+10FFFF', bytes('{"Text":"', [0xf4, 0x90, 0x80, 0x80], '"}')],
  ])('%s → encoding', (_label, body) => {
    expect(decodeJsonBody(body)).toMatchObject({ ok: false, reason: 'encoding' });
  });

  test('the decoder is not left in a bad state by a refused body', () => {
    expect(decodeJsonBody(bytes('{"a":"', [0xe4, 0xb8]))).toMatchObject({ reason: 'encoding' });
    expect(decodeJsonBody(utf8('{"a":"中"}'))).toEqual({ ok: true, text: '{"a":"中"}', value: { a: '中' } });
  });
});

describe('nesting depth', () => {
  test.each([
    ['arrays', arrays],
    ['objects', objects],
  ])('%s: exactly maxDepth is accepted, one more is refused', (_label, nest) => {
    for (const maxDepth of [1, 4, DEFAULT_MAX_JSON_DEPTH]) {
      expect(parseJsonText(nest(maxDepth), maxDepth)).toMatchObject({ ok: true });
      expect(parseJsonText(nest(maxDepth + 1), maxDepth)).toMatchObject({ ok: false, reason: 'depth' });
      expect(decodeJsonBody(utf8(nest(maxDepth)), maxDepth)).toMatchObject({ ok: true });
      expect(decodeJsonBody(utf8(nest(maxDepth + 1)), maxDepth)).toMatchObject({ ok: false, reason: 'depth' });
    }
  });

  test('the default bound is 32 for both entry points', () => {
    expect(DEFAULT_MAX_JSON_DEPTH).toBe(32);
    expect(parseJsonText(arrays(32))).toMatchObject({ ok: true });
    expect(parseJsonText(arrays(33))).toMatchObject({ reason: 'depth' });
    expect(decodeJsonBody(utf8(objects(32)))).toMatchObject({ ok: true });
    expect(decodeJsonBody(utf8(objects(33)))).toMatchObject({ reason: 'depth' });
  });

  test('mixed arrays and objects count together; siblings do not add up', () => {
    expect(parseJsonText('{"a":[{"b":[]}]}', 4)).toMatchObject({ ok: true });
    expect(parseJsonText('{"a":[{"b":[[]]}]}', 4)).toMatchObject({ reason: 'depth' });
    expect(parseJsonText('[[],[],[],[],[]]', 2)).toMatchObject({ ok: true });
  });

  test.each([
    ['brackets inside a string', '{"s":"[[[[{{{{"}'],
    ['an escaped quote before brackets', String.raw`{"s":"a\"[[[[{{{{"}`],
    ['an escaped backslash then a quote', String.raw`{"s":"\\","t":"[[[["}`],
    ['many escaped quotes', String.raw`["\"\"\"[[[[", "\\\"[[[["]`],
  ])('%s do not count', (_label, text) => {
    expect(parseJsonText(text, 2)).toMatchObject({ ok: true });
    expect(exceedsDepth(text, 2)).toBe(false);
  });

  // If `\\` were read as escaping the closing quote, the real arrays after it would be missed.
  test('brackets after a string that ends in an escaped backslash do count', () => {
    expect(exceedsDepth(String.raw`{"s":"\\","t":[[[]]]}`, 3)).toBe(true);
    expect(exceedsDepth(String.raw`{"s":"\\","t":[[]]}`, 3)).toBe(false);
  });

  test('100000 nested brackets are refused quickly and without throwing', () => {
    const attack = '['.repeat(100_000);
    const started = performance.now();
    expect(() => parseJsonText(attack)).not.toThrow();
    expect(parseJsonText(attack)).toMatchObject({ ok: false, reason: 'depth' });
    expect(decodeJsonBody(utf8(`${attack}${']'.repeat(100_000)}`))).toMatchObject({ ok: false, reason: 'depth' });
    expect(decodeJsonBody(utf8(`{"a":${attack}`))).toMatchObject({ ok: false, reason: 'depth' });
    // Generous bound: the scan stops at depth 33; this only catches a parse-first implementation.
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('syntax errors', () => {
  test.each(['', ' ', '{', '{"a":1,}', "{'a':1}", '{"a":1}{"b":2}', 'NaN', '{"a":01}', '"\u0001"'])(
    '%j → syntax',
    (text) => {
      const result = parseJsonText(text);
      expect(result).toMatchObject({ ok: false, reason: 'syntax' });
      expect(result.ok === false && result.detail.length > 0).toBe(true);
    },
  );

  test('decodeJsonBody reports them the same way', () => {
    expect(decodeJsonBody(utf8('{"MsgSeq":}'))).toMatchObject({ ok: false, reason: 'syntax' });
  });

  test('a scalar top-level value is valid JSON (the schema rejects it later)', () => {
    expect(parseJsonText('5')).toEqual({ ok: true, text: '5', value: 5 });
  });
});

describe('UTF-8 byte order mark', () => {
  // TextDecoder strips a leading BOM, so a BOM-prefixed body is accepted and `text` lacks the BOM
  // (stored text is then not the exact bytes received). Text that still holds one is a syntax error.
  test('decodeJsonBody strips it and accepts the body', () => {
    expect(decodeJsonBody(bytes([0xef, 0xbb, 0xbf], '{"a":1}'))).toEqual({
      ok: true,
      text: '{"a":1}',
      value: { a: 1 },
    });
  });

  test('parseJsonText refuses text that starts with U+FEFF', () => {
    expect(parseJsonText('\ufeff{"a":1}')).toMatchObject({ ok: false, reason: 'syntax' });
  });

  test('a BOM that is not leading is not stripped', () => {
    expect(decodeJsonBody(bytes(' ', [0xef, 0xbb, 0xbf], '{}'))).toMatchObject({ ok: false, reason: 'syntax' });
  });
});
