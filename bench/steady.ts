import { readlinkSync } from 'node:fs';
import {
  exited,
  freePort,
  repoRoot,
  spawnOwned,
  startAppProcess,
  startLocalPostgres,
  startLocalRedis,
} from '@imsync/local-services';
import { createRedis, INGEST_QUEUE } from '@imsync/queue';
import { Queue } from 'bullmq';
import type { Built } from './lib/build.js';
import { childrenOf, cpuSeconds, watchRss } from './lib/proc.js';
import { simulate } from './lib/simulate.js';
import { MIB, sleep, startScript } from './lib/util.js';
import { SDK_APP_ID, TOKEN } from './receiver.js';

// Steady load, as real traffic is: the simulator (its own process, not counted) offers a fixed
// rate on a clock; CPU is summed over every process of the pipeline (receiver, worker, Redis,
// PostgreSQL) from the first send until the last job is done, and divided by the messages. The
// floor is the least a queueing pipeline costs, measured in the same run: a bare Hono app doing one
// plain `queue.add` (bench/floor-server.ts) and a no-op BullMQ worker, on the same Redis.

/**
 * What runs: the floor pipeline, imsync as deployed (built, plain node, one receiver and one
 * worker), or `pnpm start` as a newcomer runs it (from sources with tsx, its defaults: two
 * workers and the dashboard, every log line pretty-printed to its stdout), with settings of its
 * own (a question's variant).
 */
export interface SteadyVariant {
  label: string;
  kind: 'floor' | 'imsync' | 'pnpm start';
  /** Environment for the imsync receiver (LOG_CALLBACKS …). */
  receiverEnv?: Record<string, string>;
  /** Node flags for both processes (V8's young generation …). */
  nodeArgs?: readonly string[];
  /** The rates this variant runs at (default: all of the options'). */
  rates?: readonly number[];
}

export const FLOOR: SteadyVariant = { label: 'floor', kind: 'floor' };
export const IMSYNC: SteadyVariant = { label: 'imsync', kind: 'imsync' };
export const PNPM_START: SteadyVariant = { label: 'pnpm start', kind: 'pnpm start' };

export interface SteadyRound {
  variant: string;
  rate: number;
  acknowledged: number;
  failed: number;
  /** CPU per message, µs, by process, and their sum (`pnpm start`: its own process and the dashboard in `tooling`). */
  cpuUs: { receiver: number; worker: number; redis: number; postgres: number; tooling: number; total: number };
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

/** The processes of one pipeline under test, by role, and how to stop them all. */
interface Pipeline {
  receiver: number[];
  worker: number[];
  /** `pnpm start` only: its own process (it prints every app's log) and the dashboard. */
  tooling: number[];
  stop(): Promise<void>;
}

async function startPipeline(
  variant: SteadyVariant,
  env: Record<string, string>,
  databaseUrl: string,
  built: Built,
): Promise<Pipeline> {
  const nodeArgs = [...(variant.nodeArgs ?? [])];
  if (variant.kind === 'pnpm start') {
    return startStack(env, databaseUrl);
  }
  const [receiver, worker] =
    variant.kind === 'floor'
      ? await Promise.all([
          startScript(built.scripts, 'floor-server.js', env, 'floor listening', nodeArgs),
          startScript(built.scripts, 'noop-worker.js', env, 'worker started', nodeArgs),
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
            { discardAfterReady: true, deployedAt: built.receiver, nodeArgs },
          ).then((app) => ({ pid: app.child.pid ?? 0, stop: () => app.stop() })),
          startAppProcess(
            'worker',
            { ...env, DATABASE_URL: databaseUrl, TIM_SDK_APP_ID: SDK_APP_ID, METRICS_PORT: '0' },
            { discardAfterReady: true, deployedAt: built.worker, nodeArgs },
          ).then((app) => ({ pid: app.child.pid ?? 0, stop: () => app.stop() })),
        ]);
  return {
    receiver: [receiver.pid],
    worker: [worker.pid],
    tooling: [],
    async stop() {
      await Promise.all([receiver.stop(), worker.stop()]);
    },
  };
}

/**
 * `pnpm start` (the CLI's stack command, from sources) on the bench's Redis and PostgreSQL, with
 * its defaults otherwise. Its stdout, every app's pretty-printed log, is read and dropped, as a
 * terminal would take it.
 */
async function startStack(env: Record<string, string>, databaseUrl: string): Promise<Pipeline> {
  const child = spawnOwned(process.execPath, ['--import', 'tsx', 'apps/cli/src/main.ts', 'stack'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      ...env,
      DATABASE_URL: databaseUrl,
      DASHBOARD_PORT: String(await freePort()),
      TIM_SDK_APP_ID: SDK_APP_ID,
      TIM_CALLBACK_TOKEN: TOKEN,
    },
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-4000);
      if (out.includes('imsync is running')) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`pnpm start exited (${code}) before it was running: ${out}`)));
  });
  const cli = child.pid ?? 0;
  const apps = childrenOf(cli).map((pid) => ({ pid, dir: readlinkSync(`/proc/${pid}/cwd`) }));
  const of = (dir: string) => apps.filter((app) => app.dir.endsWith(dir)).map((app) => app.pid);
  return {
    receiver: of('apps/receiver'),
    worker: of('apps/worker'),
    tooling: [cli, ...of('apps/dashboard')],
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

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
  const imsync = variant.kind !== 'floor';
  const pipeline = await startPipeline(variant, env, databaseUrl, options.built);
  const connection = createRedis(redis.url, { role: 'worker' });
  const queue = new Queue(INGEST_QUEUE, { connection, prefix });
  try {
    const roles = [pipeline.receiver, pipeline.worker, [redis.pid() ?? 0], pipeline.tooling];
    const postgresPid = postgres.pid() ?? 0;
    const sum = (pids: number[]) => pids.reduce((total, pid) => total + cpuSeconds(pid), 0);
    const cpu = () => [...roles.map(sum), cpuSeconds(postgresPid, true)];
    const receiverRss = watchRss(pipeline.receiver[0] ?? 0);
    const workerRss = watchRss(pipeline.worker[0] ?? 0);
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
    const cpuUs = { receiver: per(0), worker: per(1), redis: per(2), tooling: per(3), postgres: imsync ? per(4) : 0 };
    return {
      variant: variant.label,
      rate,
      acknowledged: summary.acknowledged,
      failed: summary.failed,
      cpuUs: { ...cpuUs, total: cpuUs.receiver + cpuUs.worker + cpuUs.redis + cpuUs.postgres + cpuUs.tooling },
      latency: summary.latency,
      receiverRssMiB: receiverRss.stop() / MIB,
      workerRssMiB: workerRss.stop() / MIB,
      storedOnce: imsync && summary.verification?.missing === 0 && summary.verification.duplicateRows === 0,
    };
  } finally {
    await queue.close();
    connection.disconnect();
    await pipeline.stop();
  }
}
