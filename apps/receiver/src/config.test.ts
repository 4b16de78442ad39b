import { ConfigError } from '@imsync/runtime';
import { expect, test } from 'vitest';
import { loadReceiverConfig } from './config.js';

const TOKEN = 'tok-never-printed-7f3a';
const required = { REDIS_URL: 'redis://127.0.0.1:6379', TIM_SDK_APP_ID: '1600012345', TIM_CALLBACK_TOKEN: TOKEN };

/** The ConfigError message `env` gives, or a failure when it loads. */
function configError(env: Record<string, string | undefined>): string {
  try {
    loadReceiverConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

test('the Redis URL, the SDKAppID and the token are required; the rest has production defaults', () => {
  expect(loadReceiverConfig(required)).toMatchObject({
    TIM_CALLBACK_AUTH: 'on',
    TIM_CALLBACK_TOKEN: TOKEN,
    PORT: 8080,
    MAX_CONNECTIONS: 1024,
    METRICS_PORT: 9090,
    METRICS_HOST: '127.0.0.1',
    CALLBACK_PATH: '/im/callback',
    BODY_LIMIT_BYTES: 1024 * 1024,
    SIGNATURE_WINDOW_SECONDS: 60,
  });
});

test('without a token the receiver does not start unless TIM_CALLBACK_AUTH=off says so', () => {
  const { TIM_CALLBACK_TOKEN: _, ...noToken } = required;
  const message = configError(noToken);
  const lines = message.split('\n').slice(1);
  expect(lines).toEqual([expect.stringMatching(/TIM_CALLBACK_TOKEN is required while TIM_CALLBACK_AUTH=on/)]);
  expect(lines[0]).toMatch(/TIM_CALLBACK_AUTH=off/);

  const off = loadReceiverConfig({ ...noToken, TIM_CALLBACK_AUTH: 'off' });
  expect(off).toMatchObject({ TIM_CALLBACK_AUTH: 'off' });
  expect(off.TIM_CALLBACK_TOKEN).toBeUndefined();
});

test('TIM_CALLBACK_AUTH=off with a token is a contradiction, reported without the token', () => {
  const message = configError({ ...required, TIM_CALLBACK_AUTH: 'off' });
  expect(message).toMatch(/TIM_CALLBACK_AUTH=off contradicts a callback token/);
  expect(message).not.toContain(TOKEN);
  expect(configError({ ...required, TIM_CALLBACK_AUTH: 'false' })).toMatch(/TIM_CALLBACK_AUTH: must be on or off/);
});

test('the auth rule is reported together with any other bad variable', () => {
  const { TIM_CALLBACK_TOKEN: _, ...noToken } = required;
  const message = configError({ ...noToken, PORT: 'http' });
  expect(message).toMatch(/PORT: must be an integer/);
  expect(message).toMatch(/TIM_CALLBACK_TOKEN is required/);
});

test('SIGNATURE_WINDOW_SECONDS is capped at 300: a wider window lets a captured URL be replayed longer', () => {
  expect(loadReceiverConfig({ ...required, SIGNATURE_WINDOW_SECONDS: '300' }).SIGNATURE_WINDOW_SECONDS).toBe(300);
  expect(configError({ ...required, SIGNATURE_WINDOW_SECONDS: '301' })).toMatch(
    /SIGNATURE_WINDOW_SECONDS: must be ≤ 300/,
  );
});

test('MAX_CONNECTIONS stays within 16–65535', () => {
  expect(loadReceiverConfig({ ...required, MAX_CONNECTIONS: '16' }).MAX_CONNECTIONS).toBe(16);
  expect(configError({ ...required, MAX_CONNECTIONS: '15' })).toMatch(/MAX_CONNECTIONS: must be ≥ 16/);
  expect(configError({ ...required, MAX_CONNECTIONS: '65536' })).toMatch(/MAX_CONNECTIONS: must be ≤ 65535/);
});

test('a non-numeric SDKAppID, an empty token and a relative path are refused at start', () => {
  expect(() => loadReceiverConfig({ ...required, TIM_SDK_APP_ID: 'abc' })).toThrow(
    /TIM_SDK_APP_ID: must be an SDKAppID/,
  );
  // The archive keeps it as a bigint: an SDKAppID past that would make every message fail.
  expect(() => loadReceiverConfig({ ...required, TIM_SDK_APP_ID: '9'.repeat(19) })).toThrow(/1 to 18 digits/);
  expect(() => loadReceiverConfig({ ...required, TIM_CALLBACK_TOKEN: '' })).toThrow(/TIM_CALLBACK_TOKEN/);
  expect(() => loadReceiverConfig({ ...required, CALLBACK_PATH: 'im' })).toThrow(/CALLBACK_PATH: must start with \//);
  // Tencent waits 2 s: an enqueue timeout at or past it would turn a 503 into a timeout.
  expect(() => loadReceiverConfig({ ...required, ENQUEUE_TIMEOUT_MS: '2000' })).toThrow(/ENQUEUE_TIMEOUT_MS/);
});
