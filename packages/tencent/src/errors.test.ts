import { expect, test } from 'vitest';
import { classifyErrorCode, redact } from './errors.js';

test("the spec's classes, and fatal for any other code", () => {
  const kinds = (codes: number[]) => codes.map(classifyErrorCode);
  expect(kinds([60007, 60011, 60018, 60019, 10006])).toEqual(Array(5).fill('throttled'));
  expect(kinds([10002, 60008])).toEqual(['retry', 'retry']);
  expect(kinds([10010, 10015])).toEqual(['group_gone', 'group_gone']);
  expect(kinds([70001, 70009, 70013, 70014, 70020])).toEqual(Array(5).fill('signature'));
  expect(kinds([10007, 60010])).toEqual(['permission', 'permission']);
  expect(kinds([10003, 10004, 60002, 60003, 12345])).toEqual(Array(5).fill('fatal'));
});

test('redact: the secrets in every encoding, and any usersig= value', () => {
  const sig = 'eJwtzL0Kw*a-b_c+d/e=';
  const text = `POST https://h/v4/x?usersig=${encodeURIComponent(sig)}&random=1 failed; sig ${sig}; key s3cr3t; usersig=other`;
  const redacted = redact(text, [sig, 's3cr3t']);
  expect(redacted).toBe('POST https://h/v4/x?usersig=***&random=1 failed; sig ***; key ***; usersig=***');
  expect(redact('nothing to hide', ['', 'x y'])).toBe('nothing to hide');
});
