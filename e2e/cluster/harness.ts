import { withDeadline } from '@imsync/async';
import type { RedisClusterService } from '@imsync/local-services';
import { CALLBACK_CATALOG, parseStoredBody, routeKeyOf, SUPPORTED_COMMANDS } from '@imsync/protocol';
import { createRedis, type QueueLayout, type QueueLocation, type RedisClient } from '@imsync/queue';
import { type GeneratedEvent, type LoadSummary, runLoad } from '@imsync/simulator';
import { type AppProcess, startAppProcess } from '@imsync/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { onTestFinished } from 'vitest';
import { type ReceiverProcess, SDK_APP_ID, startReceiver, TOKEN } from '../stack.js';
import { type Balancer, startBalancer } from './balancer.js';

// Real receivers and workers on a Redis Cluster behind a round-robin balancer, with a simulator
// stream whose every answer is kept (when it was sent, when answered, which shard its event is in).

/** Short locks, stall checks and retries, so recoveries after a failover take seconds. */
const FAST_RECOVERY = {
  worker: { JOB_LOCK_MS: '2000', STALLED_CHECK_MS: '1000', RETRY_MAX_DELAY_MS: '2000' },
  receiver: { JOB_ATTEMPTS: '40', JOB_BACKOFF_MS: '100' },
};

export interface Pipeline {
  readonly balancer: Balancer;
  readonly receivers: readonly ReceiverProcess[];
  readonly workers: readonly AppProcess[];
  /**
   * A rolling restart of one receiver with `env` added to the common one: the new one starts and
   * joins the rotation, then the old one leaves it and gets SIGTERM (its requests in flight finish).
   */
  replaceReceiver(old: ReceiverProcess, env: Record<string, string>): Promise<ReceiverProcess>;
  /** Every worker replaced by one with `env` added to the common one; the new ones start first. */
  replaceWorkers(env: Record<string, string>): Promise<void>;
  /** How every process stopped by a replacement exited (0: a clean shutdown). */
  exitCodes(): (number | NodeJS.Signals | null)[];
}

export interface PipelineOptions {
  cluster: RedisClusterService;
  databaseUrl: string;
  receivers: number;
  workers: number;
  /** For every process: QUEUE_PREFIX, QUEUE_SHARDS, REDIS_WAIT_REPLICAS … */
  env: Record<string, string>;
}

/** Starts the pipeline; every process and the balancer are stopped when the test finishes. */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  await emptyCluster(options.cluster);
  const common = { REDIS_URL: options.cluster.url, ...options.env };
  const balancer = await startBalancer('/im/callback');
  const receivers: ReceiverProcess[] = [];
  const workers: AppProcess[] = [];
  const everyProcess: AppProcess[] = [];
  const exitCodes: (number | NodeJS.Signals | null)[] = [];
  onTestFinished(async () => {
    await Promise.all(everyProcess.map((each) => each.stop('SIGKILL')));
    await balancer.close();
  });
  const receiver = async (env: Record<string, string>) => {
    const started = await startReceiver({ ...common, ...FAST_RECOVERY.receiver, ...env });
    everyProcess.push(started.receiver);
    return started;
  };
  const worker = async (env: Record<string, string>) => {
    const started = await startAppProcess('worker', {
      ...common,
      ...FAST_RECOVERY.worker,
      DATABASE_URL: options.databaseUrl,
      TIM_SDK_APP_ID: SDK_APP_ID,
      METRICS_PORT: '0',
      ...env,
    });
    everyProcess.push(started);
    return started;
  };
  const [startedReceivers, startedWorkers] = await Promise.all([
    allStarted(Array.from({ length: options.receivers }, () => receiver({}))),
    allStarted(Array.from({ length: options.workers }, () => worker({}))),
  ]);
  receivers.push(...startedReceivers);
  workers.push(...startedWorkers);
  for (const each of receivers) {
    balancer.add(each.callbackUrl);
  }
  return {
    balancer,
    receivers,
    workers,
    async replaceReceiver(old, env) {
      const started = await receiver(env);
      balancer.add(started.callbackUrl);
      balancer.remove(old.callbackUrl);
      exitCodes.push(await old.receiver.stop());
      receivers.splice(receivers.indexOf(old), 1, started);
      return started;
    },
    async replaceWorkers(env) {
      const started = await allStarted(workers.map(() => worker(env)));
      exitCodes.push(...(await Promise.all(workers.map((each) => each.stop()))));
      workers.splice(0, workers.length, ...started);
    },
    exitCodes: () => [...exitCodes],
  };
}

/**
 * Like Promise.all, but fails only once every start has settled: each process that did start is
 * then on the list the test's cleanup stops. (Failing at the first error, a worker still starting
 * would outlive the attempt and take the jobs of its retry, writing them to the old database.)
 */
async function allStarted<T>(starts: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((each) => each.status === 'rejected');
  if (failed) {
    throw failed.reason;
  }
  return settled.map((each) => (each as PromiseFulfilledResult<T>).value);
}

/** One answer of the stream: its event, status, and when it was sent and answered (ms since the epoch). */
export interface Answer {
  readonly event: GeneratedEvent;
  readonly status: number;
  readonly sentAt: number;
  readonly answeredAt: number;
}

export interface Stream {
  readonly answers: readonly Answer[];
  /** Resolves with the summary once every event was sent and answered. */
  readonly done: Promise<LoadSummary>;
  /** Resolves once `condition` holds for the answers so far; fails after `timeoutMs` or when the stream ended first. */
  until(what: string, condition: (answers: readonly Answer[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Stops sending; resolves with the summary once every request in flight was answered. */
  stop(): Promise<LoadSummary>;
}

/**
 * The simulator sending every supported command, with repeats, to `url` (up to `count` new
 * events, unless stopped earlier), keeping every answer.
 */
export function startStream(options: { url: string; seed: number; rate: number; count: number }): Stream {
  const answers: Answer[] = [];
  const waiters = new Set<() => void>();
  const controller = new AbortController();
  const done = runLoad({
    url: options.url,
    sdkAppId: SDK_APP_ID,
    token: TOKEN,
    commands: SUPPORTED_COMMANDS,
    count: options.count,
    rate: options.rate,
    // The IM backend does not wait for one callback's answer to send the next: a shard refusing
    // slowly (1 s) must not hold up the others' callbacks here either.
    concurrency: 256,
    duplicateRatio: 0.2,
    groups: 40,
    seed: options.seed,
    timeoutMs: 5000,
    signal: controller.signal,
    onResult: (result) => {
      const answeredAt = Date.now();
      answers.push({ event: result.message, status: result.status, sentAt: answeredAt - result.answerMs, answeredAt });
      for (const waiter of waiters) {
        waiter();
      }
    },
  });
  const ended = done.then(
    () => true,
    () => true,
  );
  return {
    answers,
    done,
    async until(what, condition, timeoutMs = 30_000) {
      if (condition(answers)) {
        return;
      }
      let waiter = () => {};
      const met = new Promise<void>((resolve) => {
        waiter = () => {
          if (condition(answers)) {
            resolve();
          }
        };
        waiters.add(waiter);
      });
      const endedFirst = ended.then(() => {
        if (!condition(answers)) {
          throw new Error(`the stream ended before ${what} (${answers.length} answers)`);
        }
      });
      try {
        await withDeadline(Promise.race([met, endedFirst]), timeoutMs, `waited ${timeoutMs} ms for ${what}`);
      } finally {
        waiters.delete(waiter);
      }
    },
    stop() {
      controller.abort();
      return done;
    },
  };
}

/** The shard of `layout` an event's job goes to, derived as the receiver derives it. */
export function shardOf(layout: QueueLayout, event: GeneratedEvent): number {
  const definition = CALLBACK_CATALOG[event.command];
  const parsed = definition && parseStoredBody(definition, SDK_APP_ID, event.body);
  if (!parsed?.ok) {
    throw new Error(`the simulator sent an event the receiver would refuse: ${event.command}`);
  }
  return layout.ingestFor(SDK_APP_ID, routeKeyOf(parsed.body) ?? parsed.key).shard ?? -1;
}

/** The master (host:port) serving a key's slot, as the node `client` reaches says (CLUSTER SLOTS). */
export async function masterOf(client: RedisClient, key: string): Promise<string> {
  const slot = Number(await client.cluster('KEYSLOT', key));
  const ranges = await client.cluster('SLOTS');
  const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
  return master ? `${master[0]}:${master[1]}` : 'none';
}

/** Counts of each ingest shard's jobs by state, read through a connection of the test's own. */
export function shardCounter(cluster: RedisClusterService, shards: readonly QueueLocation[]) {
  const connection = createRedis(cluster.url, { role: 'worker' });
  connection.on('error', () => {});
  const queues = shards.map((location) => {
    const queue = new Queue(location.name, { connection, prefix: location.prefix });
    queue.on('error', () => {});
    return queue;
  });
  onTestFinished(async () => {
    await Promise.all(queues.map((queue) => queue.close()));
    connection.disconnect();
  });
  return {
    connection,
    /** Per shard: jobs not finished yet (waiting, active, delayed, prioritized), and jobs completed or failed. */
    async counts(): Promise<{ pending: number; completed: number; failed: number }[]> {
      return Promise.all(
        queues.map(async (queue) => {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
          const { completed = 0, failed = 0, ...pending } = counts;
          return { pending: Object.values(pending).reduce((sum, n) => sum + n, 0), completed, failed };
        }),
      );
    },
    /** Per shard: the first failed jobs' ids and reasons. */
    async failedReasons(): Promise<string[][]> {
      return Promise.all(
        queues.map(async (queue) =>
          (await queue.getFailed(0, 4)).map((job) => `${job.id}: ${job.failedReason} (${job.attemptsMade} attempts)`),
        ),
      );
    },
  };
}

/**
 * Empties every master. The cluster is the file's, and a test's retry sends the same events
 * again (same seed): it would find their job ids kept from the first attempt, acknowledge them as
 * repeats and store nothing in its own new database.
 */
async function emptyCluster(cluster: RedisClusterService): Promise<void> {
  await Promise.all(
    cluster.nodes.map(async (node) => {
      const client = new Redis(node.port, { lazyConnect: true });
      try {
        await client.connect();
        const [role] = (await client.role()) as [string];
        if (role === 'master') {
          await client.flushall();
        }
      } finally {
        client.disconnect();
      }
    }),
  );
}
