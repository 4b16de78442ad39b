import { Worker } from 'bullmq';
import { expect } from 'vitest';
import {
  type CallbackJobData,
  cappedExponentialBackoff,
  closeRedis,
  createProducer,
  createRedis,
  INGEST_QUEUE,
  type RedisClient,
} from '../src/index.js';

/** As the real workers have it: a job whose completion was lost in a failover is retried with it. */
export const workerSettings = { backoffStrategy: cappedExponentialBackoff(1000) };

export async function untilReady(client: RedisClient): Promise<void> {
  if (client.status !== 'ready') {
    await new Promise((resolve) => client.once('ready', resolve));
  }
}

export interface FailoverProbe {
  readonly producerConnection: RedisClient;
  /** Enqueues one more job (waiting for 1 replica); true when it was acknowledged. */
  send(): Promise<boolean>;
  /** Sends until one is acknowledged (up to `tries`); true if one was. */
  sendUntilAcknowledged(tries: number): Promise<boolean>;
  /** Sends `count` jobs and expects every one acknowledged. */
  expectAcknowledged(count: number): Promise<void>;
  /** How many were refused so far, and why the last ones were. */
  refused(): number;
  reasons(): string;
  /** Resolves once the worker processed every acknowledged job; fails after `timeoutMs`. */
  expectAllProcessed(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A producer that waits for one replica (REDIS_WAIT_REPLICAS=1) and a BullMQ worker on `url`,
 * counting what was acknowledged and what was processed, for the failover tests.
 */
export async function startFailoverProbe(url: string, prefix: string): Promise<FailoverProbe> {
  const producerConnection = createRedis(url, { role: 'producer' });
  const workerConnection = createRedis(url, { role: 'worker' });
  producerConnection.on('error', () => {});
  workerConnection.on('error', () => {});
  await untilReady(producerConnection);
  const processed = new Set<string>();
  const worker = new Worker(INGEST_QUEUE, async (job) => void processed.add(job.id as string), {
    connection: workerConnection,
    prefix,
    concurrency: 20,
    // Short locks and stall checks, as the e2e failover tests give the real workers: a job fetched
    // just before the master died is active on the promoted replica under a lock nobody renews, and
    // with BullMQ's defaults (30 s each) it would be taken again only 30 to 60 s later.
    lockDuration: 2000,
    stalledInterval: 1000,
    maxStalledCount: 10,
    settings: workerSettings,
  });
  // Lost connections during the failover are expected; the worker reconnects by itself.
  worker.on('error', () => {});
  const producer = createProducer({
    connection: producerConnection,
    layout: { prefix },
    timeoutMs: 500,
    waitReplicas: 1,
  });
  const acknowledged: string[] = [];
  const reasons: string[] = [];
  let n = 0;
  const data = (i: number): CallbackJobData => ({ sdkAppId: '1600012345', body: `{"n":${i}}`, receivedAt: i });
  const send = async () => {
    const id = `gm-${n++}`;
    try {
      await producer.enqueue('group-message', data(n), id);
      acknowledged.push(id);
      return true;
    } catch (error) {
      reasons.push(`${id}: ${(error as Error).message}`);
      return false;
    }
  };
  return {
    producerConnection,
    send,
    async sendUntilAcknowledged(tries) {
      for (let i = 0; i < tries; i++) {
        if (await send()) {
          return true;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return false;
    },
    async expectAcknowledged(count) {
      for (let i = 0; i < count; i++) {
        expect(await send(), reasons.slice(-5).join('\n')).toBe(true);
      }
    },
    refused: () => reasons.length,
    reasons: () => reasons.slice(-5).join('\n'),
    async expectAllProcessed(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      // Processing happens in the worker's own time: poll what it has done.
      while (acknowledged.some((id) => !processed.has(id)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(acknowledged.filter((id) => !processed.has(id))).toEqual([]);
    },
    async close() {
      await worker.close();
      await closeRedis(producerConnection);
      await closeRedis(workerConnection);
    },
  };
}
