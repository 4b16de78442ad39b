import { expect, test } from 'vitest';
import { loadWorkerConfig } from './config.js';

test('the worker needs Redis and PostgreSQL URLs and defaults the rest', () => {
  expect(() => loadWorkerConfig({})).toThrow(/REDIS_URL: is required[\s\S]*DATABASE_URL: is required/);
  expect(loadWorkerConfig({ REDIS_URL: 'redis://r:6379', DATABASE_URL: 'postgres://p/db' })).toMatchObject({
    WORKER_CONCURRENCY: 50,
    QUEUE_PREFIX: 'imsync',
    METRICS_PORT: 9091,
  });
  expect(() => loadWorkerConfig({ REDIS_URL: 'redis://r', DATABASE_URL: 'mysql://p/db' })).toThrow(/DATABASE_URL/);
  expect(() =>
    loadWorkerConfig({ REDIS_URL: 'redis://r', DATABASE_URL: 'postgres://p/db', WORKER_CONCURRENCY: '0' }),
  ).toThrow(/WORKER_CONCURRENCY: must be ≥ 1/);
});
