import { randomBytes } from 'node:crypto';
import { test } from '@imsync/testing/vitest';
import { Worker } from 'bullmq';
import { expect } from 'vitest';
import {
  type CallbackJobData,
  closeRedis,
  createProducer,
  createRedis,
  INGEST_QUEUE,
  type RedisClient,
} from '../src/index.js';
import { workerSettings as settings, startFailoverProbe, untilReady } from './failover-probe.js';

// BullMQ and the producer on a real Redis Cluster (local processes): a queue's keys share one slot
// through the hash tag in its prefix, and a master's failover loses nothing already acknowledged.

const data = (n: number): CallbackJobData => ({ sdkAppId: '1600012345', body: `{"n":${n}}`, receivedAt: n });
const tagged = () => `{t-${randomBytes(4).toString('hex')}}`;

/** The master (host:port) serving a slot, from CLUSTER SLOTS. */
async function masterOf(client: RedisClient, key: string): Promise<string> {
  const slot = Number(await client.cluster('KEYSLOT', key));
  const ranges = await client.cluster('SLOTS');
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  const master = range?.[2];
  return master ? `${master[0]}:${master[1]}` : 'none';
}

test('the producer and a worker run on a cluster: every job once, a queue in one slot, queues spread over masters', async ({
  redisCluster,
}) => {
  const producerConnection = createRedis(redisCluster.url, { role: 'producer' });
  const workerConnection = createRedis(redisCluster.url, { role: 'worker' });
  await untilReady(producerConnection);
  const prefixes = Array.from({ length: 6 }, tagged);
  const seen = new Map<string, number>();
  const workers = prefixes.map(
    (prefix) =>
      new Worker(
        INGEST_QUEUE,
        async (job) => {
          seen.set(`${prefix}/${job.id}`, (seen.get(`${prefix}/${job.id}`) ?? 0) + 1);
        },
        { connection: workerConnection, prefix, concurrency: 20, settings },
      ),
  );
  try {
    const producers = prefixes.map((prefix) => createProducer({ connection: producerConnection, layout: { prefix } }));
    const outcomes = await Promise.all(
      producers.flatMap((producer) =>
        Array.from({ length: 50 }, (_, i) => producer.enqueue('group-message', data(i), `gm-${i % 40}`)),
      ),
    );
    // 40 ids per queue: the 10 repeats in each are the same job.
    expect(outcomes.filter((outcome) => outcome === 'added')).toHaveLength(6 * 40);
    const deadline = Date.now() + 20_000;
    while (seen.size < 6 * 40 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seen.size).toBe(6 * 40);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    const masters = new Set(await Promise.all(prefixes.map((prefix) => masterOf(producerConnection, prefix))));
    expect(masters.size).toBeGreaterThan(1);
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
    await closeRedis(producerConnection);
    await closeRedis(workerConnection);
  }
});

test('a master killed mid-stream, jobs waited for on its replica (REDIS_WAIT_REPLICAS=1): enqueues fail while nothing can back them, and resume once the failed node is back as a replica; every acknowledged job is processed', async ({
  redisCluster,
}) => {
  const prefix = tagged();
  const probe = await startFailoverProbe(redisCluster.url, prefix);
  try {
    const owner = await masterOf(probe.producerConnection, prefix);
    const node = redisCluster.nodes.find((each) => `127.0.0.1:${each.port}` === owner);
    if (!node) {
      throw new Error(`no node ${owner}`);
    }
    await probe.expectAcknowledged(50);
    await node.stop('crash');
    // Until its replica is promoted nothing answers for the slot; after, the new master has no
    // replica to wait for: either way the enqueue fails, and a receiver answers 503.
    await probe.send();
    await redisCluster.waitUntilHealthy();
    expect(await probe.send()).toBe(false);
    await node.start();
    await redisCluster.waitUntilHealthy();
    expect(await probe.sendUntilAcknowledged(100), probe.reasons()).toBe(true);
    await probe.expectAcknowledged(50);
    expect(probe.refused()).toBeGreaterThan(0);
    await probe.expectAllProcessed(30_000);
  } finally {
    await probe.close();
  }
});
