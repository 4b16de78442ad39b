import { intVar } from '@imsync/runtime';
import { BACKFILL_QUEUE } from './backfill.js';
import { deliveryQueueName } from './deliveries.js';
import { INGEST_QUEUE, QueuePrefixVar } from './names.js';
import type { RedisTarget } from './redis-target.js';

/** Where one BullMQ queue lives: its name and its key prefix. */
export interface QueueLocation {
  readonly name: string;
  readonly prefix: string;
  /** The ingest shard it is (absent for the other queues and the unsharded ingest queue). */
  readonly shard?: number;
}

/**
 * Where every queue lives. A BullMQ queue is one hash slot, so one Redis core: sharding splits the
 * ingest queue into QUEUE_SHARDS queues, each with a hash tag of its own (`{imsync-0}` …), which a
 * Redis Cluster spreads over its masters. On a cluster every queue is hash-tagged this way, even
 * with one shard (its keys must share a slot); on one Redis with one shard, the keys are where
 * they always were.
 */
export interface QueueLayout {
  /** QUEUE_PREFIX, for the keys that are not a queue's (dedupe markers, sessions, the destinations set). */
  readonly prefix: string;
  /** The shards receivers write to. */
  readonly ingest: readonly QueueLocation[];
  /**
   * What workers read: every shard, the shards still being drained after their number went down
   * (QUEUE_DRAIN_SHARDS), and, on one Redis, the unsharded queue an earlier layout may have left.
   */
  readonly consumed: readonly QueueLocation[];
  /** The shard of an event, by its app and route key (GroupId, or the C2C pair): a group stays in one shard. */
  ingestFor(sdkAppId: string, routeKey: string): QueueLocation;
  readonly backfill: QueueLocation;
  delivery(destination: string): QueueLocation;
}

export interface QueueLayoutOptions {
  prefix: string;
  shards: number;
  /** Shards 0..drainShards-1 are read too, whatever `shards` says: set it to the old count after going down. */
  drainShards?: number;
  /** A Redis Cluster: every queue needs a hash tag. */
  cluster: boolean;
}

export function createQueueLayout(options: QueueLayoutOptions): QueueLayout {
  const { prefix, shards } = options;
  const sharded = options.cluster || shards > 1;
  const tagged = (name: string) => `{${prefix}-${name}}`;
  const shard = (i: number): QueueLocation => ({ name: `${INGEST_QUEUE}-${i}`, prefix: tagged(String(i)), shard: i });
  const unsharded: QueueLocation = { name: INGEST_QUEUE, prefix };
  const ingest = sharded ? Array.from({ length: shards }, (_, i) => shard(i)) : [unsharded];
  const drained = Array.from({ length: Math.max(options.drainShards ?? 0, sharded ? shards : 0) }, (_, i) => shard(i));
  const consumed = [
    ...(options.cluster ? [] : [unsharded]),
    ...drained.filter((location) => options.cluster || location.name !== unsharded.name),
  ];
  return {
    prefix,
    ingest,
    consumed,
    ingestFor(sdkAppId, routeKey) {
      return ingest[ingest.length === 1 ? 0 : fnv1a(`${sdkAppId}\u0000${routeKey}`) % ingest.length] as QueueLocation;
    },
    backfill: sharded ? { name: BACKFILL_QUEUE, prefix: tagged(BACKFILL_QUEUE) } : { name: BACKFILL_QUEUE, prefix },
    delivery(destination) {
      const name = deliveryQueueName(destination);
      return sharded ? { name, prefix: tagged(name) } : { name, prefix };
    },
  };
}

/** The shard an ingest queue's name says it is (`group-messages-3`: 3), if it is a shard. */
export function shardOfQueueName(name: string): number | undefined {
  const match = new RegExp(`^${INGEST_QUEUE}-(\\d+)$`).exec(name);
  return match ? Number(match[1]) : undefined;
}

/** FNV-1a, 32 bits: stable across processes and versions, and spreads short keys well. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The queue variables every process reads, to spread into its config schema. */
export const QUEUE_LAYOUT_VARS = {
  QUEUE_PREFIX: QueuePrefixVar,
  /** Ingest queues: 1 (one queue, as before) unless one Redis core is not enough (README, "Scaling past one Redis"). */
  QUEUE_SHARDS: intVar(1, 1, 256),
  /** Workers and the dashboard: after lowering QUEUE_SHARDS, the old count, until its extra shards are empty. */
  QUEUE_DRAIN_SHARDS: intVar(0, 0, 256),
};

/** The layout of a parsed config's queue variables, on its Redis target. */
export function queueLayout(
  config: { QUEUE_PREFIX: string; QUEUE_SHARDS: number; QUEUE_DRAIN_SHARDS: number },
  target: RedisTarget,
): QueueLayout {
  return createQueueLayout({
    prefix: config.QUEUE_PREFIX,
    shards: config.QUEUE_SHARDS,
    drainShards: config.QUEUE_DRAIN_SHARDS,
    cluster: target.kind === 'cluster',
  });
}
