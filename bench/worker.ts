import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startAppProcess,
  startLocalPostgres as startPostgres,
  startLocalRedis as startRedis,
} from '@imsync/local-services';
import { createProducer, createRedis, INGEST_QUEUE } from '@imsync/queue';
import { checkStored, type GeneratedMessage, MessageFactory } from '@imsync/simulator';
import { Queue } from 'bullmq';
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
  variant: 'noop' | 'imsync';
  jobs: number;
  seconds: number;
  perSecond: number;
  workerCpuUs: number;
  redisCpuUs: number;
  postgresCpuUs: number;
  rssMiB: number;
  /** imsync only: every message is in the archive exactly once. */
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
      for (const variant of ['noop', 'imsync'] as const) {
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
  const producer = createProducer({ connection, prefix });
  for (let start = 0; start < messages.length; start += 1000) {
    await Promise.all(
      messages
        .slice(start, start + 1000)
        .map((m, i) =>
          producer.enqueue(
            'group-message',
            { sdkAppId: SDK_APP_ID, body: m.body, receivedAt: Date.now() },
            `gm-bench-${start + i}`,
          ),
        ),
    );
  }
  const databaseUrl = await postgres.createDatabase();
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
          { ...env, DATABASE_URL: databaseUrl, TIM_SDK_APP_ID: SDK_APP_ID, METRICS_PORT: '0' },
          { discardAfterReady: true, deployedAt: options.built.worker, nodeArgs: profiling.nodeArgs },
        ).then((app) => ({ pid: app.child.pid ?? 0, stop: () => app.stop() }));
  try {
    const redisPid = redis.pid() ?? 0;
    const postgresPid = postgres.pid() ?? 0;
    const cpu0 = [cpuSeconds(worker.pid), cpuSeconds(redisPid), cpuSeconds(postgresPid, true)];
    const rss = watchRss(worker.pid);
    const started = performance.now();
    await queue.resume();
    // Done when nothing waits or runs any more (completed jobs are trimmed to the retention count).
    while (Object.values(await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).some((n) => n > 0)) {
      await sleep(20);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu1 = [cpuSeconds(worker.pid), cpuSeconds(redisPid), cpuSeconds(postgresPid, true)];
    const perMessageUs = (i: number) => (((cpu1[i] ?? 0) - (cpu0[i] ?? 0)) / messages.length) * 1e6;
    let storedOnce = false;
    if (variant === 'imsync') {
      const check = await checkStored(databaseUrl, SDK_APP_ID, messages);
      storedOnce =
        check.missing === 0 &&
        check.duplicateRows === 0 &&
        check.totalRows === messages.length &&
        (await queue.getFailedCount()) === 0;
    }
    return {
      variant,
      jobs: messages.length,
      seconds,
      perSecond: messages.length / seconds,
      workerCpuUs: perMessageUs(0),
      redisCpuUs: perMessageUs(1),
      postgresCpuUs: variant === 'imsync' ? perMessageUs(2) : 0,
      rssMiB: rss.stop() / MIB,
      storedOnce,
    };
  } finally {
    await worker.stop();
    await queue.close();
    queueConnection.disconnect();
  }
}
