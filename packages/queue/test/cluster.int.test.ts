import { randomBytes } from 'node:crypto';
import { test } from '@imsync/testing/vitest';
import { Queue, Worker } from 'bullmq';
import { expect } from 'vitest';
import {
  type CallbackJobData,
  closeRedis,
  createProducer,
  createRedis,
  INGEST_QUEUE,
  type RedisClient,
} from '../src/index.js';

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

async function untilReady(client: RedisClient): Promise<void> {
  if (client.status !== 'ready') {
    await new Promise((resolve) => client.once('ready', resolve));
  }
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
        { connection: workerConnection, prefix, concurrency: 20 },
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

test("a master killed mid-stream: enqueues fail while its slots have no master, never succeed unbacked, and resume after the replica's promotion; every acknowledged job is processed", async ({
  redisCluster,
}) => {
  const prefix = tagged();
  const producerConnection = createRedis(redisCluster.url, { role: 'producer' });
  const workerConnection = createRedis(redisCluster.url, { role: 'worker' });
  await untilReady(producerConnection);
  const processed = new Set<string>();
  const worker = new Worker(INGEST_QUEUE, async (job) => void processed.add(job.id as string), {
    connection: workerConnection,
    prefix,
    concurrency: 20,
  });
  const producer = createProducer({ connection: producerConnection, layout: { prefix }, timeoutMs: 500 });
  const acknowledged: string[] = [];
  let refused = 0;
  try {
    const owner = await masterOf(producerConnection, prefix);
    const node = redisCluster.nodes.find((each) => `127.0.0.1:${each.port}` === owner);
    expect(node).toBeDefined();
    let killed = false;
    for (let i = 0; i < 400; i++) {
      if (i === 100) {
        await node?.stop('crash');
        killed = true;
      }
      const id = `gm-${i}`;
      try {
        await producer.enqueue('group-message', data(i), id);
        acknowledged.push(id);
      } catch {
        refused++;
      }
      if (killed && refused > 0 && acknowledged.length > 150) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Some enqueues failed while no master served the slot (a receiver answers 503 to those).
    expect(refused).toBeGreaterThan(0);
    expect(acknowledged.length).toBeGreaterThan(150);
    const deadline = Date.now() + 30_000;
    while (acknowledged.some((id) => !processed.has(id)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(acknowledged.filter((id) => !processed.has(id))).toEqual([]);
    const queue = new Queue(INGEST_QUEUE, { connection: workerConnection, prefix });
    expect(await queue.getJobCounts('failed', 'waiting', 'active')).toEqual({ failed: 0, waiting: 0, active: 0 });
    await queue.close();
    await node?.start();
  } finally {
    await worker.close();
    await closeRedis(producerConnection);
    await closeRedis(workerConnection);
  }
});
