import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisService, startAppProcess, startLocalRedis as startRedis } from '@imsync/local-services';
import { signedCallbackUrl } from '@imsync/protocol';
import { INGEST_QUEUE } from '@imsync/queue';
import { Redis } from 'ioredis';
import type { Built } from './lib/build.js';
import { cpuSeconds, watchRss } from './lib/proc.js';
import { summarizeProfile } from './lib/profile.js';
import { MIB, startScript, type WrkResult, wrk } from './lib/util.js';

// Target 1: the receiver's throughput at saturation against baseline (a), a bare Hono app that
// parses the same body and replies the same JSON. Rounds alternate baseline and imsync on the same
// machine, so noise hits both; wrk runs in its own process with one thread.

export const SDK_APP_ID = '1600012345';
export const TOKEN = 'bench-token';

export interface ThroughputRound {
  /** `quiet`: the receiver with LOG_CALLBACKS=none (what the per-callback log line costs). */
  variant: 'baseline' | 'imsync' | 'quiet';
  wrk: WrkResult;
  /** Server process CPU per request, µs. */
  serverCpuUs: number;
  /** Redis CPU per request, µs (imsync only). */
  redisCpuUs: number;
  rssMiB: number;
  /** Jobs in Redis for this round; must equal the 200s (imsync only). */
  jobs: number;
  acknowledged: number;
}

export interface ReceiverBenchOptions {
  built: Built;
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  port: number;
}

export interface ReceiverBench {
  rounds: ThroughputRound[];
  /** Where the receiver's CPU went, from one more round run under --cpu-prof (not counted above). */
  profile: { place: string; share: number }[];
}

export async function benchReceiver(options: ReceiverBenchOptions): Promise<ReceiverBench> {
  const redis = await startRedis({ appendfsync: 'everysec' });
  const inspect = new Redis(redis.url);
  const results: ThroughputRound[] = [];
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const variant of ['baseline', 'imsync', 'quiet'] as const) {
        results.push(await oneRound(variant, round, options, redis, inspect));
        await inspect.flushall();
      }
    }
    const profileDir = await mkdtemp(join(tmpdir(), 'imsync-prof-'));
    await oneRound('imsync', options.rounds + 1, options, redis, inspect, {
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
    });
    await inspect.flushall();
    return { rounds: results, profile: summarizeProfile(profileDir) };
  } finally {
    inspect.disconnect();
    await redis.dispose();
  }
}

async function oneRound(
  variant: ThroughputRound['variant'],
  round: number,
  options: ReceiverBenchOptions,
  redis: RedisService,
  inspect: Redis,
  profiling: { nodeArgs?: string[] } = {},
): Promise<ThroughputRound> {
  const prefix = `bench${round}`;
  const port = String(options.port);
  const server =
    variant === 'baseline'
      ? await startScript(options.built.scripts, 'baseline-server.js', { PORT: port }, 'baseline listening')
      : await startAppProcess(
          'receiver',
          {
            REDIS_URL: redis.url,
            TIM_SDK_APP_ID: SDK_APP_ID,
            TIM_CALLBACK_TOKEN: TOKEN,
            PORT: port,
            HOST: '127.0.0.1',
            METRICS_PORT: '0',
            QUEUE_PREFIX: prefix,
            ...(variant === 'quiet' && { LOG_CALLBACKS: 'none' }),
          },
          { discardAfterReady: true, deployedAt: options.built.receiver, nodeArgs: profiling.nodeArgs },
        ).then((app) => ({ pid: app.child.pid ?? 0, stop: () => app.stop() }));
  try {
    const url = `http://127.0.0.1:${port}`;
    const signed = new URL(signedCallbackUrl(`${url}/im/callback`, { sdkAppId: SDK_APP_ID, token: TOKEN }));
    const path = `${signed.pathname}${signed.search}`;
    // Warm-up and measurement send different messages (another seed), so none is a repeat.
    const warmup = await wrk(url, options.warmupSeconds, options.connections, {
      BENCH_PATH: path,
      BENCH_SEED: `${round}1`,
    });
    const redisPid = redis.pid() ?? 0;
    const cpu0 = cpuSeconds(server.pid);
    const redis0 = cpuSeconds(redisPid);
    const rss = watchRss(server.pid);
    const result = await wrk(url, options.seconds, options.connections, { BENCH_PATH: path, BENCH_SEED: `${round}2` });
    const rssMax = rss.stop();
    const requests = Math.max(1, result.requests);
    const acknowledged = warmup.requests - warmup.non2xx + result.requests - result.non2xx;
    return {
      variant,
      wrk: result,
      serverCpuUs: ((cpuSeconds(server.pid) - cpu0) / requests) * 1e6,
      redisCpuUs: variant === 'baseline' ? 0 : ((cpuSeconds(redisPid) - redis0) / requests) * 1e6,
      rssMiB: rssMax / MIB,
      jobs: variant === 'baseline' ? 0 : await inspect.llen(`${prefix}:${INGEST_QUEUE}:wait`),
      acknowledged,
    };
  } finally {
    await server.stop();
  }
}
