import { createHash, randomBytes } from 'node:crypto';
import { withDeadline } from '@imsync/async';
import type { RedisClient } from '@imsync/queue';

export const SESSION_SECONDS = 12 * 3600;

/** How long a session operation waits for Redis (which may be reconnecting) before it fails. */
const SESSION_REDIS_WAIT_MS = 2000;

export interface SessionStore {
  /** Starts a session holding `fingerprint` and resolves with its id (256 random bits). */
  create(fingerprint: string): Promise<string>;
  /** The fingerprint of a live session; undefined when it ended, expired or never existed. */
  fingerprint(id: string): Promise<string | undefined>;
  end(id: string): Promise<void>;
}

interface SessionRecord {
  fingerprint: string;
  expiresAt: number;
}

/**
 * Sessions kept in Redis, so that ending one (logout) ends it for every copy of its cookie.
 * The key holds a hash of the id, not the id: whoever can list Redis keys cannot sign in with them.
 * Every operation fails after SESSION_REDIS_WAIT_MS: the dashboard's connection waits for Redis
 * to come back, and a login page must not.
 */
export function createSessionStore(redis: RedisClient, keyPrefix: string, now: () => number): SessionStore {
  const key = (id: string) => `${keyPrefix}:dashboard:session:${createHash('sha256').update(id, 'utf8').digest('hex')}`;
  return {
    async create(fingerprint) {
      const id = randomBytes(32).toString('base64url');
      const record: SessionRecord = { fingerprint, expiresAt: now() + SESSION_SECONDS * 1000 };
      // The TTL only reclaims the key; `expiresAt` is what decides, on the dashboard's clock.
      await answered(redis.set(key(id), JSON.stringify(record), 'EX', SESSION_SECONDS));
      return id;
    },
    async fingerprint(id) {
      const value = await answered(redis.get(key(id)));
      if (value === null) {
        return undefined;
      }
      const record = JSON.parse(value) as Partial<SessionRecord>;
      return typeof record.fingerprint === 'string' && Number(record.expiresAt) > now()
        ? record.fingerprint
        : undefined;
    },
    async end(id) {
      await answered(redis.del(key(id)));
    },
  };
}

function answered<T>(operation: Promise<T>): Promise<T> {
  // Answered late, nobody waits for it: a session written then has an id nobody was given.
  return withDeadline(operation, SESSION_REDIS_WAIT_MS, `redis did not answer within ${SESSION_REDIS_WAIT_MS} ms`);
}
