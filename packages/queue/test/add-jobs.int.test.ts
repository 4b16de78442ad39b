import { once } from 'node:events';
import { test } from '@imsync/testing/vitest';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import {
  type CallbackJobData,
  createProducer,
  createRedis,
  DEFAULT_RETENTION_POLICY,
  INGEST_QUEUE,
  ingestJobOptions,
  type RedisClient,
} from '../src/index.js';

// The producer writes jobs with its own script instead of BullMQ's add. These tests hold it to
// writing exactly what BullMQ writes, so workers, retries and the dashboard cannot tell the two apart.

/** A producer connection refuses commands until it is connected (no offline queue). */
async function ready(connection: RedisClient): Promise<void> {
  if (connection.status !== 'ready') {
    await once(connection, 'ready');
  }
}

let counter = 0;
const uniquePrefix = () => `addjobs${process.pid}x${++counter}`;
const data = (n: number): CallbackJobData => ({
  sdkAppId: '1600012345',
  body: `{"n":${n}}`,
  receivedAt: 1767583321000 + n,
});
const retry = { attempts: 7, baseDelayMs: 250 };

async function snapshot(redis: Redis, prefix: string, jobId: string) {
  const base = `${prefix}:${INGEST_QUEUE}`;
  const { timestamp: _, opts, ...job } = await redis.hgetall(`${base}:${jobId}`);
  const events = (await redis.xrange(`${base}:events`, '-', '+')).map(([, fields]) => fields);
  return {
    job: { ...job, opts: JSON.parse(opts ?? '{}') as unknown },
    wait: await redis.lrange(`${base}:wait`, 0, -1),
    marker: await redis.zrange(`${base}:marker`, '0', '-1'),
    events,
    maxLenEvents: await redis.hget(`${base}:meta`, 'opts.maxLenEvents'),
    id: await redis.get(`${base}:id`),
  };
}

test('a job written by the producer is the job BullMQ writes, events and markers included', async ({ redis }) => {
  const connection = createRedis(redis.url, { role: 'producer' });
  const inspect = new Redis(redis.url);
  const ours = uniquePrefix();
  const theirs = uniquePrefix();
  const queue = new Queue(INGEST_QUEUE, { connection: inspect, prefix: theirs });
  try {
    await ready(connection);
    const producer = createProducer({ connection, layout: { prefix: ours }, retry });
    expect(await producer.enqueue('group-message', data(1), 'gm-0001')).toBe('added');
    await queue.add('group-message', data(1), {
      ...ingestJobOptions(retry, DEFAULT_RETENTION_POLICY),
      jobId: 'gm-0001',
    });
    expect(await snapshot(inspect, ours, 'gm-0001')).toEqual(await snapshot(inspect, theirs, 'gm-0001'));

    // The same id again: nothing changes but a "duplicated" event, as with BullMQ.
    expect(await producer.enqueue('group-message', data(2), 'gm-0001')).toBe('exists');
    await queue.add('group-message', data(2), { jobId: 'gm-0001' });
    expect(await snapshot(inspect, ours, 'gm-0001')).toEqual(await snapshot(inspect, theirs, 'gm-0001'));
  } finally {
    await queue.close();
    connection.disconnect();
    inspect.disconnect();
  }
});

/**
 * Every branch of the add-jobs script, each against BullMQ's own add on a queue in the same state:
 * the first job of a queue (meta written), a later one, a paused queue, a global concurrency that
 * is reached and one that is not. A BullMQ upgrade that changes any of them fails here.
 */
const SCENARIOS: Record<string, (queue: Queue, inspect: Redis, base: string) => Promise<unknown>> = {
  'a later job of the queue': (queue) => queue.add('group-message', data(0), { jobId: 'gm-earlier' }),
  'a paused queue': (queue) => queue.pause(),
  'a global concurrency reached': async (queue, inspect, base) => {
    await queue.setGlobalConcurrency(1);
    await inspect.lpush(`${base}:active`, 'gm-running');
  },
  'a global concurrency not reached': async (queue, inspect, base) => {
    await queue.setGlobalConcurrency(2);
    await inspect.lpush(`${base}:active`, 'gm-running');
  },
};

for (const [scenario, prepare] of Object.entries(SCENARIOS)) {
  test(`on ${scenario}, the producer adds (and repeats) a job as BullMQ does`, async ({ redis }) => {
    const connection = createRedis(redis.url, { role: 'producer' });
    const inspect = new Redis(redis.url);
    const [ours, theirs] = [uniquePrefix(), uniquePrefix()];
    const queues = [ours, theirs].map((prefix) => new Queue(INGEST_QUEUE, { connection: inspect, prefix }));
    const [ourQueue, theirQueue] = queues as [Queue, Queue];
    try {
      await ready(connection);
      for (const [queue, prefix] of [
        [ourQueue, ours],
        [theirQueue, theirs],
      ] as const) {
        await prepare(queue, inspect, `${prefix}:${INGEST_QUEUE}`);
      }
      const producer = createProducer({ connection, layout: { prefix: ours }, retry });
      const state = async (prefix: string) => ({
        ...(await snapshot(inspect, prefix, 'gm-0002')),
        meta: await inspect.hgetall(`${prefix}:${INGEST_QUEUE}:meta`),
        active: await inspect.lrange(`${prefix}:${INGEST_QUEUE}:active`, 0, -1),
      });
      for (const [round, expected] of [
        [1, 'added'],
        [2, 'exists'],
      ] as const) {
        expect(await producer.enqueue('group-message', data(round), 'gm-0002')).toBe(expected);
        await theirQueue.add('group-message', data(round), {
          ...ingestJobOptions(retry, DEFAULT_RETENTION_POLICY),
          jobId: 'gm-0002',
        });
        expect(await state(ours)).toEqual(await state(theirs));
      }
    } finally {
      await Promise.all(queues.map((queue) => queue.close()));
      connection.disconnect();
      inspect.disconnect();
    }
  });
}

test('callbacks enqueued in the same turn share one Redis call, and a worker processes every job once', async ({
  redis,
}) => {
  const connection = createRedis(redis.url, { role: 'producer' });
  const monitor = new Redis(redis.url);
  const workerConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const prefix = uniquePrefix();
  const seen: string[] = [];
  try {
    await ready(connection);
    const producer = createProducer({ connection, layout: { prefix }, retry });
    const before = Number((await monitor.info('commandstats')).match(/cmdstat_evalsha:calls=(\d+)/)?.[1] ?? 0);
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, (_, i) => producer.enqueue('group-message', data(i), `gm-${i}`)),
    );
    const after = Number((await monitor.info('commandstats')).match(/cmdstat_evalsha:calls=(\d+)/)?.[1] ?? 0);
    expect(outcomes.every((o) => o === 'added')).toBe(true);
    expect(after - before).toBeLessThanOrEqual(2);

    let allSeen: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allSeen = resolve;
    });
    const worker = new Worker<CallbackJobData>(
      INGEST_QUEUE,
      async (job) => {
        seen.push(job.id ?? '');
        expect(job.data).toEqual(data(Number(job.id?.slice(3))));
        expect(job.opts).toMatchObject({ attempts: 7, backoff: { type: 'capped-exponential', delay: 250 } });
        if (seen.length === 300) {
          allSeen();
        }
      },
      { connection: workerConnection, prefix, concurrency: 50 },
    );
    await done;
    await worker.close();
    expect(new Set(seen).size).toBe(300);
  } finally {
    connection.disconnect();
    monitor.disconnect();
    workerConnection.disconnect();
  }
});

test('while Redis is away enqueue fails at once; a paused queue takes jobs without waking workers', async ({
  redis,
}) => {
  const connection = createRedis(redis.url, { role: 'producer' });
  connection.on('error', () => {});
  const inspect = new Redis(redis.url);
  const prefix = uniquePrefix();
  const queue = new Queue(INGEST_QUEUE, { connection: inspect, prefix });
  try {
    await ready(connection);
    const producer = createProducer({ connection, layout: { prefix }, retry });
    await queue.pause();
    expect(await producer.enqueue('group-message', data(1), 'gm-paused')).toBe('added');
    expect(await inspect.zcard(`${prefix}:${INGEST_QUEUE}:marker`)).toBe(0);
    expect(await queue.getJobState('gm-paused')).toBe('waiting');

    await redis.stop('graceful');
    try {
      await expect(producer.enqueue('group-message', data(2), 'gm-away')).rejects.toThrow(/redis/);
    } finally {
      await redis.start();
    }
  } finally {
    await queue.close();
    connection.disconnect();
    inspect.disconnect();
  }
});
