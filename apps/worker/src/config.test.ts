import { expect, test } from 'vitest';
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
