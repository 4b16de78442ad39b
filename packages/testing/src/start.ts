import {
  type PostgresService,
  type RedisServerOptions,
  type RedisService,
  startLocalPostgres,
  startLocalRedis,
} from '@imsync/local-services';
import { startPostgresContainer, startRedisContainer } from './containers.js';
import { dockerAvailable } from './docker.js';

/** A private Redis: a container when a Docker engine answers, else `redis-server` from PATH. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisService> {
  return (await dockerAvailable()) ? startRedisContainer(options.appendfsync ?? 'everysec') : startLocalRedis(options);
}

/** A private PostgreSQL: a container when a Docker engine answers, else the local binaries. */
export async function startPostgres(): Promise<PostgresService> {
  return (await dockerAvailable()) ? startPostgresContainer() : startLocalPostgres();
}
