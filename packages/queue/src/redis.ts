import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { parseRedisUrl, type RedisTarget } from './redis-target.js';

/** A connection to one Redis (Sentinel's master included) or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * How a process uses Redis decides how its connection must behave when Redis goes away:
 * - `producer` (the receiver) fails fast: no offline queue and a command timeout, so a request
 *   gets a 503 well within Tencent's 2 s instead of waiting for a reconnect;
 * - `worker` waits forever (`maxRetriesPerRequest: null`, as BullMQ requires for workers) and
 *   resumes by itself once Redis is back.
 */
export type RedisRole = 'producer' | 'worker';

export interface RedisConnectionOptions {
  role: RedisRole;
  /**
   * Send the commands issued in one turn of the event loop as one write. For connections many
   * concurrent jobs share (the dedupe markers), not for BullMQ's own, which pipelines itself.
   */
  autoPipelining?: boolean;
  /** A command that takes longer fails (ms); the producer's default is 1000, a worker's none. */
  commandTimeoutMs?: number;
  /** Shows in `CLIENT LIST`, so an operator can tell the processes apart. */
  connectionName?: string;
}

/** Reconnect quickly at first, then every second: outages are usually restarts. */
const retryStrategy = (times: number) => Math.min(50 * times, 1000);

function redisOptions(options: RedisConnectionOptions): RedisOptions {
  const common: RedisOptions = {
    connectionName: options.connectionName,
    retryStrategy,
    connectTimeout: 5000,
    keepAlive: 10_000,
    enableAutoPipelining: options.autoPipelining ?? false,
  };
  if (options.role === 'producer') {
    return {
      ...common,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 1000,
    };
  }
  return {
    ...common,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    ...(options.commandTimeoutMs && { commandTimeout: options.commandTimeoutMs }),
  };
}

/**
 * A connection to the target (or to the `REDIS_URL` given as text), with the behaviour of its
 * role. A cluster client reaches every node with the same options, follows MOVED and ASK, and
 * re-reads the slots after a failover; a Sentinel client asks the Sentinels for the master again
 * whenever it loses it. No `keyPrefix` ever: BullMQ does not work with it.
 */
export function createRedis(target: RedisTarget | string, options: RedisConnectionOptions): RedisClient {
  const parsed = typeof target === 'string' ? parseRedisUrl(target) : target;
  if ('problem' in parsed) {
    throw new Error(`REDIS_URL ${parsed.problem}`);
  }
  const base = redisOptions(options);
  switch (parsed.kind) {
    case 'single':
      return new Redis(parsed.url, base);
    case 'cluster':
      return new Cluster([...parsed.nodes], {
        redisOptions: {
          ...base,
          ...(parsed.username && { username: parsed.username }),
          ...(parsed.password && { password: parsed.password }),
          ...(parsed.tls && { tls: {} }),
        },
        clusterRetryStrategy: retryStrategy,
        // The producer's fail-fast and the worker's patience hold for the cluster client too.
        enableOfflineQueue: base.enableOfflineQueue ?? true,
        maxRedirections: 16,
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        slotsRefreshTimeout: 2000,
        scaleReads: 'master',
        // Never on a cluster: an autopipeline mixes slots and handles MOVED for the whole batch
        // (redis/ioredis#2075), and across a failover its commands can wait for a "ready" that
        // comes late or not at all, and jobs waiting on them can hold every slot of a worker.
        enableAutoPipelining: false,
        ...(parsed.natMap && { natMap: { ...parsed.natMap } }),
      });
    case 'sentinel':
      return new Redis({
        ...base,
        sentinels: [...parsed.sentinels],
        name: parsed.masterName,
        role: 'master',
        sentinelRetryStrategy: retryStrategy,
        ...(parsed.username && { username: parsed.username }),
        ...(parsed.password && { password: parsed.password }),
        ...(parsed.sentinelPassword && { sentinelPassword: parsed.sentinelPassword }),
        ...(parsed.tls && { tls: {}, enableTLSForSentinelMode: true }),
      });
  }
}

/** A new connection to the same target with the same options (a cluster client to the same nodes). */
export function duplicateRedis(redis: RedisClient): RedisClient {
  // Two branches for the types only: each class's duplicate() makes its own kind.
  return redis instanceof Cluster ? redis.duplicate() : redis.duplicate();
}

/**
 * Closes a connection at shutdown: QUIT (the server sees a clean close) when it is up, else just
 * drop it. QUIT on a connection that is down or still connecting fails, and would fail a shutdown
 * that had nothing left to do.
 */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit().catch(() => redis.disconnect());
  } else {
    redis.disconnect();
  }
}
