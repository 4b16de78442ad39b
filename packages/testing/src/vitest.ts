import {
  type RedisClusterService,
  type RedisSentinelService,
  startLocalRedisCluster,
  startLocalRedisSentinel,
} from '@imsync/local-services';
import { test as base } from 'vitest';
import { startPostgres, startRedis } from './start.js';

/**
 * `test` with real services as fixtures. `redis` and `postgres` are started once per test file,
 * on first use, and removed after the file's last test (a file may stop and restart them); each
 * test that asks for `databaseUrl` gets an empty database of its own.
 */
export const test = base
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads the fixtures a fixture needs from this pattern.
  .extend('redis', { scope: 'file' }, async ({}, { onCleanup }) => {
    const redis = await startRedis();
    onCleanup(() => redis.dispose());
    return redis;
  })
  // biome-ignore lint/correctness/noEmptyPattern: as above.
  .extend('postgres', { scope: 'file' }, async ({}, { onCleanup }) => {
    const postgres = await startPostgres();
    onCleanup(() => postgres.dispose());
    return postgres;
  })
  .extend('databaseUrl', async ({ postgres }) => postgres.createDatabase())
  // A Redis Cluster of local processes (3 masters, a replica each), for the tests that need one:
  // Docker's images are not used for it, so it runs the same everywhere.
  // biome-ignore lint/correctness/noEmptyPattern: as above.
  .extend('redisCluster', { scope: 'file' }, async ({}, { onCleanup }): Promise<RedisClusterService> => {
    const cluster = await startLocalRedisCluster({ masters: 3, replicas: 1 });
    onCleanup(() => cluster.dispose());
    return cluster;
  })
  // A master with a replica and three Sentinels (local processes).
  // biome-ignore lint/correctness/noEmptyPattern: as above.
  .extend('redisSentinel', { scope: 'file' }, async ({}, { onCleanup }): Promise<RedisSentinelService> => {
    const sentinel = await startLocalRedisSentinel({ replicas: 1 });
    onCleanup(() => sentinel.dispose());
    return sentinel;
  });
export { runsAlone } from './load-lock.js';
