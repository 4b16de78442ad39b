import * as v from 'valibot';
import { expect, test } from 'vitest';
import { AppListSchema, mergeApps } from './apps.js';

const parse = (text: string) => v.safeParse(AppListSchema, text);

test('pairs, a rotation (one app, two tokens) and bare ids', () => {
  const result = parse('1400000001:tokA, 1400000001:tokB,1600012345:to:ken,1400000002');
  expect(result.success && [...result.output]).toEqual([
    ['1400000001', ['tokA', 'tokB']],
    ['1600012345', ['to:ken']],
    ['1400000002', []],
  ]);
});

test('a bad entry is named by its position, never by its token', () => {
  const result = parse('1400000001:secret-token-value,abc:other-secret,1400000002:');
  expect(result.success).toBe(false);
  const messages = result.success ? [] : result.issues.map((issue) => issue.message);
  expect(messages).toEqual([
    'entry 2 must start with an SDKAppID (1 to 18 digits)',
    "entry 3 (app 1400000002) must have a token of 1 to 128 characters after ':'",
  ]);
  expect(messages.join(' ')).not.toMatch(/secret/);
});

test('TIM_APPS and TIM_SDK_APP_ID with its token add up', () => {
  const list = new Map([['1400000001', ['tokA']]]);
  expect([...mergeApps(list, { sdkAppId: '1400000001', token: 'tokB' })]).toEqual([['1400000001', ['tokA', 'tokB']]]);
  expect([...mergeApps(list, { sdkAppId: '1600012345', token: undefined })]).toEqual([
    ['1400000001', ['tokA']],
    ['1600012345', []],
  ]);
});
