import { describe, expect, test } from 'vitest';
import { loadWorkerConfig } from './config.js';

const APP = { TIM_SDK_APP_ID: '1600012345' };

test('the worker needs Redis and PostgreSQL URLs and its app, and defaults the rest', () => {
  expect(() => loadWorkerConfig({})).toThrow(
    /REDIS_URL: is required[\s\S]*DATABASE_URL: is required[\s\S]*TIM_SDK_APP_ID is required/,
  );
  expect(loadWorkerConfig({ REDIS_URL: 'redis://r:6379', DATABASE_URL: 'postgres://p/db', ...APP })).toMatchObject({
    WORKER_CONCURRENCY: 50,
    QUEUE_PREFIX: 'imsync',
    METRICS_PORT: 9091,
    METRICS_HOST: '127.0.0.1',
  });
  expect(() => loadWorkerConfig({ REDIS_URL: 'redis://r', DATABASE_URL: 'mysql://p/db', ...APP })).toThrow(
    /DATABASE_URL/,
  );
  expect(() =>
    loadWorkerConfig({ REDIS_URL: 'redis://r', DATABASE_URL: 'postgres://p/db', WORKER_CONCURRENCY: '0', ...APP }),
  ).toThrow(/WORKER_CONCURRENCY: must be ≥ 1/);
});

test('the served apps come from TIM_SDK_APP_ID and TIM_APPS together; tokens in TIM_APPS are ignored', () => {
  const base = { REDIS_URL: 'redis://r', DATABASE_URL: 'postgres://p/db' };
  expect([...loadWorkerConfig({ ...base, ...APP }).apps]).toEqual(['1600012345']);
  expect([...loadWorkerConfig({ ...base, TIM_APPS: '1400000001:secret,1400000002' }).apps]).toEqual([
    '1400000001',
    '1400000002',
  ]);
  expect([...loadWorkerConfig({ ...base, ...APP, TIM_APPS: '1400000001' }).apps].sort()).toEqual([
    '1400000001',
    '1600012345',
  ]);
});

describe('gap detection and backfill', () => {
  const base = { REDIS_URL: 'redis://r', DATABASE_URL: 'postgres://p/db' };

  test('is on by default, backfills no app without a key, and calls China at 20 calls/s as administrator', () => {
    expect(loadWorkerConfig({ ...base, ...APP })).toMatchObject({
      GAP_DETECTION: 'on',
      GAP_GRACE_SECONDS: 60,
      BACKFILL_RATE: 20,
      TIM_API_BASE_URL: 'https://console.tim.qq.com',
      TIM_ADMIN_IDENTIFIER: 'administrator',
      secretKeys: new Map(),
    });
  });

  test('TIM_SECRET_KEY is the key of TIM_SDK_APP_ID; TIM_APP_SECRET_KEYS gives the keys of other apps', () => {
    const config = loadWorkerConfig({
      ...base,
      ...APP,
      TIM_APPS: '1400000001,1400000002',
      TIM_SECRET_KEY: 'k-main',
      TIM_APP_SECRET_KEYS: '1400000001:k-one',
      TIM_API_BASE_URL: 'singapore',
    });
    expect(config.secretKeys).toEqual(
      new Map([
        ['1600012345', 'k-main'],
        ['1400000001', 'k-one'],
      ]),
    );
    expect(config.TIM_API_BASE_URL).toBe('https://adminapisgp.im.qcloud.com');
  });

  test('a key that serves no app, or a malformed list, is refused without showing any key', () => {
    const refused = (env: Record<string, string>) => {
      try {
        loadWorkerConfig({ ...base, ...env });
      } catch (error) {
        return String((error as Error).message);
      }
      throw new Error('accepted');
    };
    const orphan = refused({ TIM_APPS: '1400000001', TIM_SECRET_KEY: 'k-secret-1' });
    expect(orphan).toMatch(/TIM_SECRET_KEY is the key of TIM_SDK_APP_ID, which is not set/);
    const unserved = refused({ ...APP, TIM_APP_SECRET_KEYS: '1400000009:k-secret-2' });
    expect(unserved).toMatch(/TIM_APP_SECRET_KEYS names an app this worker does not serve/);
    const malformed = refused({ ...APP, TIM_APP_SECRET_KEYS: '1600012345=k-secret-3' });
    expect(malformed).toMatch(/TIM_APP_SECRET_KEYS must list SDKAPPID:KEY pairs/);
    for (const message of [orphan, unserved, malformed]) {
      expect(message).not.toMatch(/k-secret/);
    }
  });
});
