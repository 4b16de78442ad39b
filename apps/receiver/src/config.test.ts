import { expect, test } from 'vitest';
import { loadReceiverConfig } from './config.js';

const required = { REDIS_URL: 'redis://127.0.0.1:6379', TIM_SDK_APP_ID: '1600012345' };

test('only the Redis URL and the SDKAppID are required; the rest has production defaults', () => {
  const config = loadReceiverConfig(required);
  expect(config.TIM_CALLBACK_TOKEN).toBeUndefined();
  expect(config).toMatchObject({
    PORT: 8080,
    CALLBACK_PATH: '/im/callback',
    BODY_LIMIT_BYTES: 1024 * 1024,
    SIGNATURE_WINDOW_SECONDS: 60,
  });
});

test('a non-numeric SDKAppID, an empty token and a relative path are refused at start', () => {
  expect(() => loadReceiverConfig({ ...required, TIM_SDK_APP_ID: 'abc' })).toThrow(/TIM_SDK_APP_ID: must be digits/);
  expect(() => loadReceiverConfig({ ...required, TIM_CALLBACK_TOKEN: '' })).toThrow(/TIM_CALLBACK_TOKEN/);
  expect(() => loadReceiverConfig({ ...required, CALLBACK_PATH: 'im' })).toThrow(/CALLBACK_PATH: must start with \//);
  // Tencent waits 2 s: an enqueue timeout at or past it would turn a 503 into a timeout.
  expect(() => loadReceiverConfig({ ...required, ENQUEUE_TIMEOUT_MS: '2000' })).toThrow(/ENQUEUE_TIMEOUT_MS/);
});
