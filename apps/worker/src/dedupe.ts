import { dedupeMarkerKey, type RedisClient } from '@imsync/queue';

/**
 * Remembers, across all worker processes, which messages already reached the sink. The marker is
 * written only after the sink committed: written before, a failed commit would lose the message.
 * It is a shortcut, not the guarantee: the sink's own unique key catches what slips past it
 * (two workers racing on one message, or a repeat after the TTL).
 */
export interface DedupeStore {
  seen(messageKey: string): Promise<boolean>;
  mark(messageKey: string): Promise<void>;
}

export function createRedisDedupe(redis: RedisClient, prefix: string, ttlSeconds: number): DedupeStore {
  return {
    async seen(messageKey) {
      return (await redis.exists(dedupeMarkerKey(prefix, messageKey))) === 1;
    },
    async mark(messageKey) {
      await redis.set(dedupeMarkerKey(prefix, messageKey), '1', 'EX', ttlSeconds);
    },
  };
}
