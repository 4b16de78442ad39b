import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startAppProcess,
  startLocalPostgres as startPostgres,
  startLocalRedis as startRedis,
} from '@imsync/local-services';
import { createRedis, deliveryQueueName, INGEST_QUEUE } from '@imsync/queue';
import { checkStored, type GeneratedMessage, MessageFactory } from '@imsync/simulator';
import { Queue } from 'bullmq';
import { preload } from './drain.js';
import type { Built } from './lib/build.js';
import { cpuSeconds, watchRss } from './lib/proc.js';
import { summarizeProfile } from './lib/profile.js';
import { MIB, sleep, startScript } from './lib/util.js';
import { SDK_APP_ID } from './receiver.js';

// Target 3: how fast one worker process stores messages (dedupe marker + PostgreSQL archive,
// exactly-once kept) against baseline (b), a BullMQ worker with a no-op processor draining the
// same jobs on the same Redis. Jobs are written first into a paused queue; the clock starts when
// the queue is resumed and stops when the last job completed.

export interface DrainRound {
  /** `delivery`: imsync with one HTTP destination, a local server answering 204 at once. */
  variant: 'noop' | 'imsync' | 'delivery';
  jobs: number;
  seconds: number;
  perSecond: number;
  workerCpuUs: number;
  redisCpuUs: number;
  postgresCpuUs: number;
  rssMiB: number;
  /** imsync only: every message is in the archive exactly once (and, delivery, at the destination). */
  storedOnce: boolean;
}

export interface WorkerBenchOptions {
  built: Built;
  rounds: number;
  jobs: number;
  concurrency: number;
}

export interface WorkerBench {
  rounds: DrainRound[];
  /** Where the worker's CPU went, from one more drain run under --cpu-prof (not counted above). */
  profile: { place: string; share: number }[];
}

export async function benchWorker(options: WorkerBenchOptions): Promise<WorkerBench> {
  const redis = await startRedis({ appendfsync: 'everysec' });
  const postgres = await startPostgres({});
  const connection = createRedis(redis.url, { role: 'producer' });
  connection.on('error', () => {});
  if (connection.status !== 'ready') {
    await once(connection, 'ready');
  }
  const results: DrainRound[] = [];
  try {
    for (let round = 1; round <= options.rounds; round++) {
      // The same messages for both variants of a round.
      const factory = new MessageFactory({ seed: round, groups: 200 });
      const messages = Array.from({ length: options.jobs }, () => factory.next());
      for (const variant of ['noop', 'imsync', 'delivery'] as const) {
        results.push(
          await oneRound(variant, `drain${round}${variant}`, messages, options, { redis, postgres, connection }),
        );
        await connection.flushall();
      }
    }
    const profileDir = await mkdtemp(join(tmpdir(), 'imsync-prof-'));
    const factory = new MessageFactory({ seed: 99, groups: 200 });
    const messages = Array.from({ length: options.jobs }, () => factory.next());
    await oneRound(
      'imsync',
      'drainprofile',
      messages,
      options,
      { redis, postgres, connection },
      { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] },
    );
    return { rounds: results, profile: summarizeProfile(profileDir) };
  } finally {
    connection.disconnect();
    await Promise.all([redis.dispose(), postgres.dispose()]);
  }
}

interface Services {
  redis: Awaited<ReturnType<typeof startRedis>>;
  postgres: Awaited<ReturnType<typeof startPostgres>>;
  connection: ReturnType<typeof createRedis>;
}

async function oneRound(
  variant: DrainRound['variant'],
  prefix: string,
  messages: GeneratedMessage[],
  options: WorkerBenchOptions,
  { redis, postgres, connection }: Services,
  profiling: { nodeArgs?: string[] } = {},
): Promise<DrainRound> {
  const queueConnection = createRedis(redis.url, { role: 'worker' });
  const queue = new Queue(INGEST_QUEUE, { connection: queueConnection, prefix });
  await queue.pause();
  await preload(connection, { prefix }, messages, 'gm-bench');
  const databaseUrl = await postgres.createDatabase();
  const sink = variant === 'delivery' ? await startSink() : undefined;
  const env = {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    QUEUE_NAME: INGEST_QUEUE,
    WORKER_CONCURRENCY: String(options.concurrency),
  };
  const worker =
    variant === 'noop'
      ? await startScript(options.built.scripts, 'noop-worker.js', env, 'worker started')
      : await startAppProcess(
          'worker',
          {
            ...env,
            DATABASE_URL: databaseUrl,
            TIM_SDK_APP_ID: SDK_APP_ID,
            METRICS_PORT: '0',
            ...(sink && { SYNC_HTTP_URL: sink.url, SYNC_HTTP_SECRET: SINK_SECRET }),
          },
          { discardAfterReady: true, deployedAt: options.built.worker, nodeArgs: profiling.nodeArgs },
        ).then((app) => ({ pid: app.child.pid ?? 0, stop: () => app.stop() }));
  try {
    const redisPid = redis.pid() ?? 0;
    const postgresPid = postgres.pid() ?? 0;
    const cpu0 = [cpuSeconds(worker.pid), cpuSeconds(redisPid), cpuSeconds(postgresPid, true)];
    const rss = watchRss(worker.pid);
    const started = performance.now();
    await queue.resume();
    // Done when nothing waits or runs any more (completed jobs are trimmed to the retention count),
    // on the ingest queue and, with a destination, on its delivery queue.
    const pending = async (q: Queue) =>
      Object.values(await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).some((n) => n > 0);
    const deliveries = sink && new Queue(deliveryQueueName('http'), { connection: queueConnection, prefix });
    while ((await pending(queue)) || (deliveries && (sink?.received ?? 0) < messages.length)) {
      await sleep(20);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu1 = [cpuSeconds(worker.pid), cpuSeconds(redisPid), cpuSeconds(postgresPid, true)];
    const perMessageUs = (i: number) => (((cpu1[i] ?? 0) - (cpu0[i] ?? 0)) / messages.length) * 1e6;
    let storedOnce = false;
    if (variant !== 'noop') {
      const check = await checkStored(databaseUrl, SDK_APP_ID, messages);
      storedOnce =
        check.missing === 0 &&
        check.duplicateRows === 0 &&
        check.totalRows === messages.length &&
        (await queue.getFailedCount()) === 0 &&
        (!sink || sink.received === messages.length);
    }
    await deliveries?.close();
    return {
      variant,
      jobs: messages.length,
      seconds,
      perSecond: messages.length / seconds,
      workerCpuUs: perMessageUs(0),
      redisCpuUs: perMessageUs(1),
      postgresCpuUs: variant === 'noop' ? 0 : perMessageUs(2),
      rssMiB: rss.stop() / MIB,
      storedOnce,
    };
  } finally {
    await worker.stop();
    await queue.close();
    queueConnection.disconnect();
    await sink?.close();
  }
}

const SINK_SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;

/** A destination that takes every delivery at once (204), counting them: the cost is all imsync's. */
async function startSink() {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    get received() {
      return received;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
