import { freePort, startAppProcess, startLocalPostgres, startLocalRedis } from '@imsync/local-services';
import { createRedis, INGEST_QUEUE } from '@imsync/queue';
import { Queue } from 'bullmq';
import type { Built } from './lib/build.js';
import { cpuSeconds, watchRss } from './lib/proc.js';
import { simulate } from './lib/simulate.js';
import { MIB, sleep, startScript } from './lib/util.js';
import { SDK_APP_ID, TOKEN } from './receiver.js';

// Steady load, as real traffic is: the simulator (its own process, not counted) offers a fixed
// rate on a clock; CPU is summed over every process of the pipeline (receiver, worker, Redis,
// PostgreSQL) from the first send until the last job is done, and divided by the messages. The
// floor is the least a queueing pipeline costs, measured in the same run: a bare Hono app doing one
// plain `queue.add` (bench/floor-server.ts) and a no-op BullMQ worker, on the same Redis.

/** What runs: the floor pipeline or imsync, with settings of its own (a question's variant). */
export interface SteadyVariant {
  label: string;
  kind: 'floor' | 'imsync';
  /** Environment for the imsync receiver (LOG_CALLBACKS …). */
  receiverEnv?: Record<string, string>;
  /** Node flags for both processes (V8's young generation …). */
  nodeArgs?: readonly string[];
  /** The rates this variant runs at (default: all of the options'). */
  rates?: readonly number[];
}

export const FLOOR: SteadyVariant = { label: 'floor', kind: 'floor' };
export const IMSYNC: SteadyVariant = { label: 'imsync', kind: 'imsync' };

export interface SteadyRound {
  variant: string;
  rate: number;
  acknowledged: number;
  failed: number;
  /** CPU per message, µs, by process, and their sum. */
  cpuUs: { receiver: number; worker: number; redis: number; postgres: number; total: number };
  latency: { p50: number; p99: number; max: number };
  receiverRssMiB: number;
  workerRssMiB: number;
  /** imsync only: every acknowledged message stored once. */
  storedOnce: boolean;
}

export interface SteadyOptions {
  built: Built;
  rates: readonly number[];
  seconds: number;
  rounds: number;
  /** Seconds of traffic before each measured run, so neither side is measured while it warms up. */
  warmupSeconds: number;
  variants: readonly SteadyVariant[];
}

export async function benchSteady(options: SteadyOptions): Promise<SteadyRound[]> {
  const redis = await startLocalRedis({ appendfsync: 'everysec' });
  const postgres = await startLocalPostgres({});
  const rounds: SteadyRound[] = [];
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const rate of options.rates) {
        for (const [index, variant] of options.variants.entries()) {
          if ((variant.rates ?? [rate]).includes(rate)) {
            rounds.push(await oneRound(variant, rate, `s${round}r${rate}v${index}`, options, redis, postgres));
          }
        }
      }
    }
  } finally {
    await Promise.all([redis.dispose(), postgres.dispose()]);
  }
  return rounds;
}

type Redis = Awaited<ReturnType<typeof startLocalRedis>>;
type Postgres = Awaited<ReturnType<typeof startLocalPostgres>>;

async function oneRound(
  variant: SteadyVariant,
  rate: number,
  prefix: string,
  options: SteadyOptions,
  redis: Redis,
  postgres: Postgres,
): Promise<SteadyRound> {
  const port = await freePort();
  const databaseUrl = await postgres.createDatabase();
  const env = { REDIS_URL: redis.url, QUEUE_PREFIX: prefix, QUEUE_NAME: INGEST_QUEUE, PORT: String(port) };
  const nodeArgs = [...(variant.nodeArgs ?? [])];
  const imsync = variant.kind === 'imsync';
  const [receiver, worker] = !imsync
    ? await Promise.all([
        startScript(options.built.scripts, 'floor-server.js', env, 'floor listening', nodeArgs),
        startScript(options.built.scripts, 'noop-worker.js', env, 'worker started', nodeArgs),
      ])
    : await Promise.all([
        startAppProcess(
          'receiver',
          {
            ...env,
            TIM_SDK_APP_ID: SDK_APP_ID,
            TIM_CALLBACK_TOKEN: TOKEN,
            HOST: '127.0.0.1',
            METRICS_PORT: '0',
            ...variant.receiverEnv,
          },
          { discardAfterReady: true, deployedAt: options.built.receiver, nodeArgs },
        ).then((app) => ({ pid: app.child.pid ?? 0, stop: () => app.stop() })),
        startAppProcess(
          'worker',
          { ...env, DATABASE_URL: databaseUrl, TIM_SDK_APP_ID: SDK_APP_ID, METRICS_PORT: '0' },
          { discardAfterReady: true, deployedAt: options.built.worker, nodeArgs },
        ).then((app) => ({ pid: app.child.pid ?? 0, stop: () => app.stop() })),
      ]);
  const connection = createRedis(redis.url, { role: 'worker' });
  const queue = new Queue(INGEST_QUEUE, { connection, prefix });
  try {
    const pids = [receiver.pid, worker.pid, redis.pid() ?? 0];
    const postgresPid = postgres.pid() ?? 0;
    const cpu = () => [...pids.map((pid) => cpuSeconds(pid)), cpuSeconds(postgresPid, true)];
    const receiverRss = watchRss(receiver.pid);
    const workerRss = watchRss(worker.pid);
    const drained = async () => {
      while (Object.values(await queue.getJobCounts('waiting', 'active', 'delayed')).some((n) => n > 0)) {
        await sleep(20);
      }
    };
    const url = `http://127.0.0.1:${port}/im/callback`;
    await simulate({ url, rate, seconds: options.warmupSeconds, databaseUrl, verify: false });
    await drained();
    const before = cpu();
    const stdout = await simulate({ url, rate, seconds: options.seconds, databaseUrl, verify: imsync });
    // Until the last job is done: the worker's share of a message is spent after its ack.
    await drained();
    const after = cpu();
    const summary = JSON.parse(stdout) as {
      acknowledged: number;
      failed: number;
      latency: { p50: number; p99: number; max: number };
      verification?: { missing: number; duplicateRows: number };
    };
    const per = (i: number) => (((after[i] ?? 0) - (before[i] ?? 0)) * 1e6) / Math.max(1, summary.acknowledged);
    const cpuUs = { receiver: per(0), worker: per(1), redis: per(2), postgres: imsync ? per(3) : 0 };
    return {
      variant: variant.label,
      rate,
      acknowledged: summary.acknowledged,
      failed: summary.failed,
      cpuUs: { ...cpuUs, total: cpuUs.receiver + cpuUs.worker + cpuUs.redis + cpuUs.postgres },
      latency: summary.latency,
      receiverRssMiB: receiverRss.stop() / MIB,
      workerRssMiB: workerRss.stop() / MIB,
      storedOnce: imsync && summary.verification?.missing === 0 && summary.verification.duplicateRows === 0,
    };
  } finally {
    await queue.close();
    connection.disconnect();
    await Promise.all([receiver.stop(), worker.stop()]);
  }
}
