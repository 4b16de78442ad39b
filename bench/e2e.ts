import { freePort, startAppProcess, startLocalPostgres, startLocalRedis } from '@imsync/local-services';
import { createRedis, INGEST_QUEUE } from '@imsync/queue';
import { Queue } from 'bullmq';
import type { Built } from './lib/build.js';
import { watchRss } from './lib/proc.js';
import { simulate } from './lib/simulate.js';
import { MIB } from './lib/util.js';
import { SDK_APP_ID, TOKEN } from './receiver.js';

// Target 2: the whole pipeline at a fixed offered rate (open loop: sends are scheduled on a clock,
// not after replies), receiver, workers, Redis and PostgreSQL all on this machine. The simulator
// runs in its own process; this one samples the backlog and the processes' memory once a second.

export interface EndToEndOptions {
  built: Built;
  rate: number;
  seconds: number;
  workers: number;
  concurrency: number;
}

export interface EndToEndResult {
  offeredRate: number;
  seconds: number;
  sent: number;
  acknowledged: number;
  failed: number;
  rejected: number;
  latency: { p50: number; p90: number; p99: number; p999: number; max: number };
  lateSends: number;
  /** The longest the simulator's own event loop stalled, ms. */
  clientStallMs: number;
  /** Waiting + active + delayed jobs, sampled each second. */
  backlog: number[];
  receiverRssMiB: number;
  workerRssMiB: number;
  verification: { stored: number; missing: number; duplicateRows: number; totalRows: number };
  /** The receiver's own view: share of accepted callbacks answered within each bucket (le, in s). */
  serverSide: Record<string, number>;
  /** The slowest event Redis recorded in its latency monitor, ms. */
  redisWorstMs: number;
}

/** Cumulative shares of imsync_callback_ack_duration_seconds{outcome="accepted"} per bucket. */
async function scrapeAckHistogram(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(url)).text();
  const buckets: [string, number][] = [];
  for (const match of text.matchAll(/^imsync_callback_ack_duration_seconds_bucket\{([^}]*)\} (\d+)/gm)) {
    const labels = match[1] ?? '';
    if (labels.includes('outcome="accepted"')) {
      buckets.push([labels.match(/le="([^"]+)"/)?.[1] ?? '', Number(match[2])]);
    }
  }
  const total = buckets.find(([le]) => le === '+Inf')?.[1] ?? 1;
  return Object.fromEntries(buckets.map(([le, n]) => [le, n / total]));
}

export async function benchEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const redis = await startLocalRedis({ appendfsync: 'everysec' });
  const postgres = await startLocalPostgres({});
  const databaseUrl = await postgres.createDatabase();
  const port = await freePort();
  const receiver = await startAppProcess(
    'receiver',
    {
      REDIS_URL: redis.url,
      TIM_SDK_APP_ID: SDK_APP_ID,
      TIM_CALLBACK_TOKEN: TOKEN,
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
    },
    { discardAfterReady: true, deployedAt: options.built.receiver },
  );
  const { opsPort } = await receiver.waitForLine((line) => line.msg === 'receiver listening');
  const workers = [];
  for (let i = 0; i < options.workers; i++) {
    workers.push(
      await startAppProcess(
        'worker',
        {
          REDIS_URL: redis.url,
          DATABASE_URL: databaseUrl,
          TIM_SDK_APP_ID: SDK_APP_ID,
          METRICS_PORT: '0',
          WORKER_CONCURRENCY: String(options.concurrency),
        },
        { discardAfterReady: true, deployedAt: options.built.worker },
      ),
    );
  }
  const connection = createRedis(redis.url, { role: 'worker' });
  const queue = new Queue(INGEST_QUEUE, { connection, prefix: 'imsync' });
  const receiverRss = watchRss(receiver.child.pid ?? 0);
  const workerRss = workers.map((w) => watchRss(w.child.pid ?? 0));
  const backlog: number[] = [];
  let serverSide: Record<string, number> = {};
  let redisWorstMs = 0;
  const sampler = setInterval(() => {
    void queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized').then((counts) => {
      backlog.push(Object.values(counts).reduce((sum, n) => sum + n, 0));
    });
  }, 1000);
  try {
    const stdout = await simulate({
      url: `http://127.0.0.1:${port}/im/callback`,
      rate: options.rate,
      seconds: options.seconds,
      databaseUrl,
      verify: true,
    });
    serverSide = await scrapeAckHistogram(`http://127.0.0.1:${opsPort}/metrics`);
    // Redis's own record of its slowest events (threshold 1 ms): shows whether Redis caused a tail.
    redisWorstMs = ((await connection.call('LATENCY', 'LATEST')) as [string, number, number, number][]).reduce(
      (worst, [, , , max]) => Math.max(worst, max),
      0,
    );
    const summary = JSON.parse(stdout) as Omit<
      EndToEndResult,
      'offeredRate' | 'seconds' | 'backlog' | 'receiverRssMiB' | 'workerRssMiB'
    > & {
      rejected: Record<string, number>;
    };
    return {
      offeredRate: options.rate,
      seconds: options.seconds,
      sent: summary.sent,
      acknowledged: summary.acknowledged,
      failed: summary.failed,
      rejected: Object.values(summary.rejected).reduce((sum, n) => sum + n, 0),
      latency: summary.latency,
      lateSends: summary.lateSends,
      clientStallMs: summary.clientStallMs,
      backlog,
      receiverRssMiB: receiverRss.stop() / MIB,
      workerRssMiB: Math.max(...workerRss.map((w) => w.stop())) / MIB,
      verification: summary.verification,
      serverSide,
      redisWorstMs,
    };
  } finally {
    clearInterval(sampler);
    await queue.close();
    connection.disconnect();
    await Promise.all([receiver.stop(), ...workers.map((w) => w.stop())]);
    await Promise.all([redis.dispose(), postgres.dispose()]);
  }
}
