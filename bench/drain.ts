import { once } from 'node:events';
import { type AppProcess, startAppProcess } from '@imsync/local-services';
import { createProducer, createQueueLayout, createRedis, type QueueLayout } from '@imsync/queue';
import type { GeneratedMessage } from '@imsync/simulator';
import { Queue } from 'bullmq';
import type { Built } from './lib/build.js';
import { cpuSeconds } from './lib/proc.js';
import { sleep } from './lib/util.js';
import { SDK_APP_ID } from './receiver.js';

// One drain of a backlog by several worker processes, on one Redis or a cluster with shards: what
// the sizing guide's curves are made of.

export interface DrainSetup {
  built: Built;
  /** Where Redis is: a redis:// or redis+cluster:// URL, and its server processes' pids. */
  redisUrl: string;
  redisPids: () => number[];
  cluster: boolean;
  databaseUrl: string;
  postgresPid: number;
}

export interface DrainResult {
  workers: number;
  shards: number;
  messages: number;
  perSecond: number;
  /** CPU per message, µs: all workers, all Redis servers, PostgreSQL. */
  workerCpuUs: number;
  redisCpuUs: number;
  postgresCpuUs: number;
  /** The busiest Redis server's share of all Redis CPU (1: one server did everything). */
  busiestRedisShare: number;
}

export async function drain(
  setup: DrainSetup,
  messages: readonly GeneratedMessage[],
  options: { workers: number; shards: number; prefix: string; concurrency: number },
): Promise<DrainResult> {
  const layout = createQueueLayout({ prefix: options.prefix, shards: options.shards, cluster: setup.cluster });
  const connection = createRedis(setup.redisUrl, { role: 'producer', commandTimeoutMs: 30_000 });
  const queueConnection = createRedis(setup.redisUrl, { role: 'worker' });
  connection.on('error', () => {});
  queueConnection.on('error', () => {});
  if (connection.status !== 'ready') {
    await once(connection, 'ready');
  }
  const queues = layout.ingest.map(
    (location) => new Queue(location.name, { connection: queueConnection, prefix: location.prefix }),
  );
  const workers: AppProcess[] = [];
  try {
    await Promise.all(queues.map((queue) => queue.pause()));
    await preload(connection, layout, messages, 'gm-sizing');
    const env = {
      REDIS_URL: setup.redisUrl,
      QUEUE_PREFIX: options.prefix,
      QUEUE_SHARDS: String(options.shards),
      WORKER_CONCURRENCY: String(options.concurrency),
      DATABASE_URL: setup.databaseUrl,
      TIM_SDK_APP_ID: SDK_APP_ID,
      METRICS_PORT: '0',
      GAP_DETECTION: 'off',
    };
    for (let i = 0; i < options.workers; i++) {
      workers.push(await startAppProcess('worker', env, { discardAfterReady: true, deployedAt: setup.built.worker }));
    }
    const pids = () => workers.map((worker) => worker.child.pid ?? 0);
    const redisBefore = setup.redisPids().map((pid) => cpuSeconds(pid));
    const before = [sum(pids().map((pid) => cpuSeconds(pid))), cpuSeconds(setup.postgresPid, true)];
    const started = performance.now();
    await Promise.all(queues.map((queue) => queue.resume()));
    const busy = async () =>
      (
        await Promise.all(
          queues.map(async (queue) =>
            Object.values(await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).some((n) => n > 0),
          ),
        )
      ).some(Boolean);
    // The workers are other processes: poll the queues until nothing waits or runs.
    while (await busy()) {
      await sleep(20);
    }
    const seconds = (performance.now() - started) / 1000;
    const redisUsed = setup.redisPids().map((pid, i) => cpuSeconds(pid) - (redisBefore[i] ?? 0));
    const after = [sum(pids().map((pid) => cpuSeconds(pid))), cpuSeconds(setup.postgresPid, true)];
    const perMessageUs = (seconds: number) => (seconds / messages.length) * 1e6;
    const redisTotal = sum(redisUsed);
    return {
      workers: options.workers,
      shards: options.shards,
      messages: messages.length,
      perSecond: messages.length / seconds,
      workerCpuUs: perMessageUs((after[0] ?? 0) - (before[0] ?? 0)),
      redisCpuUs: perMessageUs(redisTotal),
      postgresCpuUs: perMessageUs((after[1] ?? 0) - (before[1] ?? 0)),
      busiestRedisShare: redisTotal > 0 ? Math.max(...redisUsed) / redisTotal : 1,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await Promise.all(queues.map((queue) => queue.close()));
    connection.disconnect();
    queueConnection.disconnect();
  }
}

/** Writes a backlog as the receivers would: each message to its group's shard, ids `<idPrefix>-<n>`. */
export async function preload(
  connection: ReturnType<typeof createRedis>,
  layout: QueueLayout | { prefix: string },
  messages: readonly GeneratedMessage[],
  idPrefix: string,
): Promise<void> {
  const producer = createProducer({ connection, layout, timeoutMs: 30_000 });
  for (let start = 0; start < messages.length; start += 1000) {
    await Promise.all(
      messages
        .slice(start, start + 1000)
        .map((m, i) =>
          producer.enqueue(
            'group-message',
            { sdkAppId: SDK_APP_ID, body: m.body, receivedAt: Date.now() },
            `${idPrefix}-${start + i}`,
            m.identity.groupId,
          ),
        ),
    );
  }
  await producer.close();
}

const sum = (values: readonly number[]) => values.reduce((total, n) => total + n, 0);
