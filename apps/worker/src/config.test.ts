import { expect, test } from 'vitest';
import { loadWorkerConfig } from './config.js';

const APP = { TIM_SDK_APP_ID: '1600012345' };

test('the worker needs Redis and PostgreSQL URLs and its app, and defaults the rest', () => {
  expect(() => loadWorkerConfig({})).toThrow(
    /REDIS_URL: is required[\s\S]*DATABASE_URL: is required[\s\S]*TIM_SDK_APP_ID: is required/,
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
