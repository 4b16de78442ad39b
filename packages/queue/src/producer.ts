import { once } from 'node:events';
import { BatchItemError, createTurnBatcher, type TurnBatcher, withDeadline } from '@imsync/async';
import { type JobsOptions, QueueKeys } from 'bullmq';
import { Cluster } from 'ioredis';
import { ADD_JOBS_SCRIPT } from './add-jobs-script.js';
import type { JobData, JobName } from './jobs.js';
import { createQueueLayout, type QueueLayout } from './layout.js';
import { closeRedis, duplicateRedis, type RedisClient } from './redis.js';
import {
  DEFAULT_RETENTION_POLICY,
  DEFAULT_RETRY_POLICY,
  ingestJobOptions,
  type JobRetryOptions,
  type RetentionPolicy,
} from './retry.js';

/** `added`: a new job; `exists`: a job with this id is still kept (the same event, sent again). */
export type EnqueueOutcome = 'added' | 'exists';

export interface Producer {
  /**
   * Resolves once Redis holds the job. `jobId` is the event key, so enqueueing the same event
   * again while its job is still kept is a no-op. Rejects when Redis is unreachable or too slow.
   * `routeKey` picks the shard with the app (GroupId, or the C2C pair; the job id when absent):
   * the same event must always get the same one, so its repeats are the same job.
   */
  enqueue<N extends JobName>(name: N, data: JobData<N>, jobId: string, routeKey?: string): Promise<EnqueueOutcome>;
  /** Resolves when Redis answers a PING (for readiness). */
  ping(): Promise<void>;
  /** Waits for the writes in flight; the caller owns and closes the connection. */
  close(): Promise<void>;
}

export interface ProducerOptions {
  /** A connection created with role `producer`; the caller owns and closes it. */
  connection: RedisClient;
  /** Where the ingest shards are; or just a prefix, for one unsharded queue on one Redis. */
  layout: QueueLayout | { prefix: string };
  retry?: JobRetryOptions;
  retention?: RetentionPolicy;
  /** An enqueue that has not completed after this long fails (ms); the caller answers 503. */
  timeoutMs?: number;
  /** Jobs per Redis call at most. */
  maxBatch?: number;
  /** 0: a batch is what one event-loop turn accepted; more: what this many ms accepted. */
  batchWindowMs?: number;
  /**
   * Replicas that must have the jobs before an enqueue succeeds (Redis `WAIT`), so that a
   * failover cannot lose what was acknowledged; 0 trusts the master alone (replication is async).
   */
  waitReplicas?: number;
}

/** Redis did not take the job: the event is not stored and the callback must not get a 200. */
class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

type AddJobs = (...args: string[]) => Promise<number[]>;

const SAFE_JOB_ID = /^[\w-]{1,128}$/;

/**
 * Enqueues ingest jobs. Callbacks accepted during the same turn of the event loop share one Redis
 * call per job name (the add-jobs script): under load that turns thousands of round trips and
 * script runs a second into a few hundred, while a lone callback is still written at once.
 */
export function createProducer(options: ProducerOptions): Producer {
  const { connection } = options;
  const layout =
    'ingestFor' in options.layout
      ? options.layout
      : createQueueLayout({ prefix: options.layout.prefix, shards: 1, cluster: false });
  const jobOptions = ingestJobOptions(
    options.retry ?? DEFAULT_RETRY_POLICY,
    options.retention ?? DEFAULT_RETENTION_POLICY,
  );
  // One writer per shard: a batch is one script call, and a script's keys must share a slot.
  const writers = new Map(
    layout.ingest.map((location) => [
      location,
      createJobWriter({
        connection,
        prefix: location.prefix,
        queue: location.name,
        jobOptions,
        timeoutMs: options.timeoutMs ?? 1000,
        maxBatch: options.maxBatch,
        batchWindowMs: options.batchWindowMs,
        waitReplicas: options.waitReplicas,
      }),
    ]),
  );
  return {
    enqueue(name, data, jobId, routeKey) {
      // Fail at once while disconnected, rather than queue up behind a reconnect.
      if (connection.status !== 'ready') {
        return Promise.reject(new QueueUnavailableError(`redis connection is ${connection.status}`));
      }
      const writer = writers.get(layout.ingestFor(data.sdkAppId, routeKey ?? jobId)) as JobWriter;
      return writer.add(name, JSON.stringify(data), jobId);
    },
    async ping() {
      // Every writer's connection: one waiting for replicas has its own.
      await Promise.all([connection.ping(), ...[...writers.values()].map((writer) => writer.ping())]);
    },
    close: async () => {
      await Promise.all([...writers.values()].map((writer) => writer.close()));
    },
  };
}

export interface JobWriterOptions {
  connection: RedisClient;
  prefix: string;
  queue: string;
  /** The options every job of this writer gets (retries, retention). */
  jobOptions: JobsOptions;
  /** A write that has not completed after this long fails (ms). */
  timeoutMs: number;
  /** Jobs per Redis call at most. */
  maxBatch?: number;
  batchWindowMs?: number;
  /** Replicas that must acknowledge each batch (Redis `WAIT`) before it counts as written. */
  waitReplicas?: number;
}

export interface JobWriter {
  /** Adds a job with this id (a no-op while a job with that id is kept), data already JSON. */
  add(name: string, data: string, jobId: string): Promise<EnqueueOutcome>;
  /** Resolves when the writer's Redis connection answers a PING. */
  ping(): Promise<void>;
  /** Waits for the writes in flight (and closes the writer's own connection, if it has one). */
  close(): Promise<void>;
}

/**
 * Adds jobs to one queue, exactly as BullMQ's own add would (the add-jobs script), batching the
 * jobs of one event-loop turn into one Redis call per job name.
 */
export function createJobWriter(options: JobWriterOptions): JobWriter {
  const { timeoutMs } = options;
  const waitReplicas = options.waitReplicas ?? 0;
  // WAIT blocks its connection until the replicas answer (for the whole timeout while a master has
  // none): a writer that waits gets a connection of its own, so it never holds up another shard's
  // writes or a readiness PING.
  const connection = waitReplicas > 0 ? duplicateRedis(options.connection) : options.connection;
  // The first connect of a connection of its own: a batch waits for it (within its deadline)
  // rather than fail, since the producer's connection is up. After that, a writer fails fast.
  let connected: Promise<unknown> = Promise.resolve();
  if (connection !== options.connection) {
    connection.on('error', () => {});
    connected = once(connection, 'ready');
    connected.catch(() => {});
  }
  const keys = new QueueKeys(options.prefix).getKeys(options.queue);
  const scriptKeys = [keys.wait, keys.meta, keys.id, keys.active, keys.events, keys.marker] as string[];
  const jobKeyPrefix = `${keys['']}`;
  const optsHead = optionsHead(options.jobOptions);
  if (!('imsyncAddJobs' in connection)) {
    connection.defineCommand('imsyncAddJobs', { numberOfKeys: scriptKeys.length, lua: ADD_JOBS_SCRIPT });
  }
  const addJobs = (connection as unknown as { imsyncAddJobs: AddJobs }).imsyncAddJobs.bind(connection);
  // WAIT in the same pipeline as the script: on a cluster a pipeline goes to the node of its keys,
  // so the replicas waited for are those of the shard's master.
  const pipelineOnce = async (args: string[]): Promise<number[]> => {
    const pipeline = connection.pipeline() as unknown as {
      imsyncAddJobs(...args: string[]): unknown;
      wait(replicas: number, timeoutMs: number): unknown;
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    pipeline.imsyncAddJobs(...args);
    // WAIT gives up a little before the batch's deadline, so a slow replica gets its own message.
    pipeline.wait(waitReplicas, Math.max(10, Math.floor(timeoutMs * 0.8)));
    const [added, waited] = (await pipeline.exec()) ?? [];
    if (!added || added[0] || !waited || waited[0]) {
      throw added?.[0] ?? waited?.[0] ?? new Error('no reply to the pipeline');
    }
    if ((waited[1] as number) < waitReplicas) {
      throw new Error(`${waited[1]} of ${waitReplicas} replicas acknowledged the job within ${timeoutMs} ms`);
    }
    return added[1] as number[];
  };
  const addAndReplicate = async (args: string[]): Promise<number[]> => {
    if (connection.status === 'wait' || connection.status === 'connecting' || connection.status === 'connect') {
      await connected;
    }
    try {
      return await pipelineOnce(args);
    } catch (error) {
      // A cluster follows MOVED for single commands, not for a pipeline whose WAIT went through:
      // read the slots again (a failover moved them) and try once more; the job ids make it safe.
      if (!(connection instanceof Cluster) || !/^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN)\b/.test((error as Error).message)) {
        throw error;
      }
      await new Promise<void>((resolve) => connection.refreshSlotsCache(() => resolve()));
      return pipelineOnce(args);
    }
  };
  const batchers = new Map<string, TurnBatcher<{ jobId: string; data: string }, EnqueueOutcome>>();

  const batcherFor = (name: string) => {
    let batcher = batchers.get(name);
    if (!batcher) {
      batcher = createTurnBatcher({
        maxBatch: options.maxBatch ?? 500,
        windowMs: options.batchWindowMs,
        run: async (jobs) => {
          const args = [...scriptKeys, jobKeyPrefix, name, String(Date.now()), optsHead];
          for (const job of jobs) {
            args.push(job.jobId, job.data);
          }
          try {
            // One timer for the whole batch; the jobs were queued only a moment ago, in this same
            // turn. The write may still land after it: safe, the job id makes a repeat a no-op.
            const results = await withDeadline(
              waitReplicas > 0 ? addAndReplicate(args) : addJobs(...args),
              timeoutMs,
              `redis did not take the job within ${timeoutMs} ms`,
            );
            return jobs.map((_, i) => (results[i] === 1 ? 'added' : 'exists'));
          } catch (error) {
            const reason = (error as Error).message;
            const failure = new QueueUnavailableError(
              reason.startsWith('redis did not take the job') ? reason : `redis did not take the job: ${reason}`,
              { cause: error },
            );
            return jobs.map(() => new BatchItemError(failure));
          }
        },
      });
      batchers.set(name, batcher);
    }
    return batcher;
  };

  return {
    add(name, data, jobId) {
      if (!SAFE_JOB_ID.test(jobId)) {
        return Promise.reject(new Error(`job id ${JSON.stringify(jobId)} is not an event key`));
      }
      return batcherFor(name).add({ jobId, data });
    },
    async ping() {
      await connection.ping();
    },
    async close() {
      await Promise.all([...batchers.values()].map((batcher) => batcher.drain()));
      if (connection !== options.connection) {
        await closeRedis(connection);
      }
    },
  };
}

/** The job options as BullMQ stores them (JSON), open at the end for each job's own id. */
function optionsHead(options: JobsOptions): string {
  const json = JSON.stringify({ ...options, jobId: '' });
  return json.slice(0, json.length - 2);
}
