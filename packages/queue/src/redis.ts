import { Redis, type RedisOptions } from 'ioredis';

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
  /** Producer only: a command that takes longer fails (ms). */
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
  return { ...common, maxRetriesPerRequest: null, enableOfflineQueue: true };
}

export function createRedis(url: string, options: RedisConnectionOptions): Redis {
  return new Redis(url, redisOptions(options));
}

/**
 * Closes a connection at shutdown: QUIT (the server sees a clean close) when it is up, else just
 * drop it. QUIT on a connection that is down or still connecting fails, and would fail a shutdown
 * that had nothing left to do.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit().catch(() => redis.disconnect());
  } else {
    redis.disconnect();
  }
}
