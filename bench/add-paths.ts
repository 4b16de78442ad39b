import { once } from 'node:events';
import { startLocalRedis } from '@imsync/local-services';
import {
  createJobWriter,
  createRedis,
  DEFAULT_RETENTION_POLICY,
  DEFAULT_RETRY_POLICY,
  ingestJobOptions,
  type RedisClient,
} from '@imsync/queue';
import { MessageFactory } from '@imsync/simulator';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { cpuSeconds } from './lib/proc.js';

// The receiver's enqueue, three ways, on one private Redis, in this process: imsync's add-jobs
// script (one EVALSHA per event-loop turn), BullMQ's public `queue.addBulk` with the same per-turn
// batching (one EVALSHA per job, one round trip), and BullMQ's `queue.add` per job on a connection
// with ioredis's `enableAutoPipelining` (ioredis gathers a turn's commands into one write). Each
// turn adds `batch` jobs, as a receiver does with the callbacks of one turn; `depth` turns are in
// flight at once, as under load.

export type AddPath = 'script' | 'addBulk' | 'autoPipelining';
export const ADD_PATHS: readonly AddPath[] = ['script', 'addBulk', 'autoPipelining'];

export interface AddPathRound {
  variant: AddPath;
  batch: number;
  perSecond: number;
  /** This process's CPU per job: the client's side (includes the bench loop, the same for each). */
  clientCpuUs: number;
  redisCpuUs: number;
}

export interface AddPathOptions {
  rounds: number;
  jobs: number;
  /** Jobs per event-loop turn: 1 is a steady trickle, 64 a receiver at saturation. */
  batches: readonly number[];
  depth: number;
}

const QUEUE = 'group-messages';
const JOB = 'group-message';

export async function benchAddPaths(options: AddPathOptions): Promise<AddPathRound[]> {
  const redis = await startLocalRedis({ appendfsync: 'everysec' });
  const factory = new MessageFactory({ seed: 7, groups: 200 });
  // What the receiver enqueues: the callback's body as received, and when.
  const data = Array.from({ length: 2000 }, () => ({ body: JSON.stringify(factory.next()), receivedAt: Date.now() }));
  const jobOptions = ingestJobOptions(DEFAULT_RETRY_POLICY, DEFAULT_RETENTION_POLICY);
  const rounds: AddPathRound[] = [];
  const admin = new Redis(redis.url);
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const batch of options.batches) {
        for (const variant of ADD_PATHS) {
          const prefix = `b${round}${variant}${batch}`;
          const add = await adder(variant, redis.url, prefix, jobOptions);
          let next = 0;
          const turn = async () => {
            const jobs = Array.from({ length: batch }, () => {
              const n = next++;
              return { id: `gm-${prefix}-${n}`, data: data[n % data.length] as object };
            });
            await add.turn(jobs);
          };
          // Warm-up: the script cache, JIT, the connection.
          for (let i = 0; i < 200; i++) {
            await turn();
          }
          const redisBefore = cpuSeconds(redis.pid() ?? 0);
          const cpuBefore = process.cpuUsage();
          const started = performance.now();
          const first = next;
          const turns = Math.ceil(options.jobs / batch);
          let issued = 0;
          await Promise.all(
            Array.from({ length: options.depth }, async () => {
              while (issued < turns) {
                issued++;
                await turn();
              }
            }),
          );
          const seconds = (performance.now() - started) / 1000;
          const cpu = process.cpuUsage(cpuBefore);
          const done = next - first;
          rounds.push({
            variant,
            batch,
            perSecond: done / seconds,
            clientCpuUs: (cpu.user + cpu.system) / done,
            redisCpuUs: ((cpuSeconds(redis.pid() ?? 0) - redisBefore) * 1e6) / done,
          });
          await add.close();
          await admin.flushall();
        }
      }
    }
  } finally {
    admin.disconnect();
    await redis.dispose();
  }
  return rounds;
}

interface Adder {
  turn(jobs: { id: string; data: object }[]): Promise<unknown>;
  close(): Promise<void>;
}

async function adder(
  variant: AddPath,
  url: string,
  prefix: string,
  jobOptions: ReturnType<typeof ingestJobOptions>,
): Promise<Adder> {
  if (variant === 'script') {
    const connection = await connected(createRedis(url, { role: 'producer' }));
    const writer = createJobWriter({ connection, prefix, queue: QUEUE, jobOptions, timeoutMs: 5000 });
    return {
      // The receiver's callbacks of one turn: each its own add (the producer stringifies), batched
      // by the writer.
      turn: (jobs) => Promise.all(jobs.map((job) => writer.add(JOB, JSON.stringify(job.data), job.id))),
      close: async () => {
        await writer.close();
        connection.disconnect();
      },
    };
  }
  const connection = await connected(
    createRedis(url, { role: 'producer', ...(variant === 'autoPipelining' && { autoPipelining: true }) }),
  );
  const queue = new Queue(QUEUE, { connection, prefix });
  await queue.waitUntilReady();
  return {
    turn:
      variant === 'addBulk'
        ? (jobs) =>
            queue.addBulk(jobs.map((job) => ({ name: JOB, data: job.data, opts: { ...jobOptions, jobId: job.id } })))
        : (jobs) => Promise.all(jobs.map((job) => queue.add(JOB, job.data, { ...jobOptions, jobId: job.id }))),
    close: async () => {
      await queue.close();
      connection.disconnect();
    },
  };
}

async function connected(connection: RedisClient): Promise<RedisClient> {
  connection.on('error', () => {});
  if (connection.status !== 'ready') {
    await once(connection, 'ready');
  }
  return connection;
}
