import * as v from 'valibot';
import { expect, test } from 'vitest';
import { DEFAULT_TENCENT_API_BASE_URL, TENCENT_API_BASE_URLS, TENCENT_API_VARS } from './index.js';

const Schema = v.object({ ...TENCENT_API_VARS });

test('defaults: China, no secret key (nothing calls Tencent), the administrator account', () => {
  expect(v.parse(Schema, {})).toEqual({
    TIM_API_BASE_URL: DEFAULT_TENCENT_API_BASE_URL,
    TIM_SECRET_KEY: undefined,
    TIM_ADMIN_IDENTIFIER: 'administrator',
  });
  expect(DEFAULT_TENCENT_API_BASE_URL).toBe('https://console.tim.qq.com');
});

test('a region by name, or an http(s) URL without a trailing slash', () => {
  const base = (value: string) => v.parse(Schema, { TIM_API_BASE_URL: value }).TIM_API_BASE_URL;
  expect(base('singapore')).toBe('https://adminapisgp.im.qcloud.com');
  expect(base(' Silicon-Valley ')).toBe(TENCENT_API_BASE_URLS['silicon-valley']);
  expect(base('http://127.0.0.1:4100/')).toBe('http://127.0.0.1:4100');
  expect(base('https://proxy.example/tencent/')).toBe('https://proxy.example/tencent');
  for (const bad of ['mars', 'ftp://console.tim.qq.com', 'https://u:p@proxy.example', 'https://x.example/?a=1']) {
    const result = v.safeParse(Schema, { TIM_API_BASE_URL: bad });
    expect(result.success, bad).toBe(false);
    expect(result.issues?.[0]?.message).toContain('must be a region (china, singapore');
  }
});

test('the key and the admin: no whitespace, the admin at most 32 bytes', () => {
  expect(v.parse(Schema, { TIM_SECRET_KEY: 'abc123', TIM_ADMIN_IDENTIFIER: 'ops_admin' })).toMatchObject({
    TIM_SECRET_KEY: 'abc123',
    TIM_ADMIN_IDENTIFIER: 'ops_admin',
  });
  expect(v.safeParse(Schema, { TIM_SECRET_KEY: 'abc123\n' }).success).toBe(false);
  expect(v.safeParse(Schema, { TIM_ADMIN_IDENTIFIER: 'an admin' }).success).toBe(false);
  expect(v.safeParse(Schema, { TIM_ADMIN_IDENTIFIER: 'a'.repeat(33) }).success).toBe(false);
});
