import { withDeadline } from '@imsync/async';
import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';
import { shardOfQueueName } from './layout.js';

// Job states a queue can hold, as BullMQ's getJobCounts names them.
const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;

// The states of a job no worker has taken yet. A paused queue's jobs stay in `waiting` (BullMQ 6
// has no paused list any more), so paused jobs count through it.
const PENDING_STATES = ['waiting', 'delayed', 'prioritized'] as const;

/** How many jobs of each pending state the oldest-pending gauge reads at a scrape. */
const PENDING_SAMPLE = 10;

/**
 * Queue depth by state and the age of the oldest waiting and pending jobs, read from Redis at
 * scrape time, for the queues `queues()` returns then: a list that may grow (the dashboard adds
 * each destination's queue once it finds it). Every process that registers them reports the same
 * numbers: aggregate with max(), not sum().
 */
export function registerQueueMetrics(registry: Registry, prefix: string, queues: () => readonly Queue[]): void {
  new Gauge({
    name: `${prefix}queue_jobs`,
    help: 'Jobs in each queue, by state.',
    labelNames: ['queue', 'state', 'shard'],
    registers: [registry],
    async collect() {
      await eachQueue(queues(), async (queue) => {
        const counts = await answered(queue.getJobCounts(...STATES));
        if (!counts) {
          return;
        }
        for (const state of STATES) {
          this.set({ ...labelsOf(queue), state }, counts[state] ?? 0);
        }
      });
    },
  });
  new Gauge({
    name: `${prefix}queue_paused`,
    help: '1 while the queue is paused (its waiting jobs are not taken), else 0.',
    labelNames: ['queue', 'shard'],
    registers: [registry],
    async collect() {
      await eachQueue(queues(), async (queue) => {
        const paused = await answered(queue.isPaused());
        if (paused !== undefined) {
          this.set(labelsOf(queue), paused ? 1 : 0);
        }
      });
    },
  });
  new Gauge({
    name: `${prefix}queue_oldest_waiting_age_seconds`,
    help: 'How long the oldest waiting job has waited (0 when none waits): a growing value means workers fall behind.',
    labelNames: ['queue', 'shard'],
    registers: [registry],
    async collect() {
      await eachQueue(queues(), async (queue) => {
        const jobs = await answered(queue.getJobs(['wait'], 0, 0, true));
        if (jobs) {
          this.set(labelsOf(queue), ageSeconds(jobs));
        }
      });
    },
  });
  new Gauge({
    name: `${prefix}queue_oldest_pending_age_seconds`,
    help:
      'How long ago the oldest job not yet taken was added, whether waiting, delayed (a retry), paused or ' +
      'prioritized (0 when none is): for a delivery queue, how far behind its destination is. An approximation.',
    labelNames: ['queue', 'shard'],
    registers: [registry],
    async collect() {
      // An approximation: only the first PENDING_SAMPLE jobs of each state are read, since reading
      // every job at every scrape costs as much as the queue is long. The first are not always the
      // oldest: the delayed set is ordered by when a job runs next (a job retried for long, with a
      // long backoff, sits far back), the prioritized set by priority, and the waiting list by when a
      // job last entered it (a retried job enters again at the back), while a job's `timestamp` is
      // when it was added. An older job further back is missed until it comes forward.
      await eachQueue(queues(), async (queue) => {
        const jobs = await answered(queue.getJobs([...PENDING_STATES], 0, PENDING_SAMPLE - 1, true));
        if (jobs) {
          this.set(labelsOf(queue), ageSeconds(jobs));
        }
      });
    },
  });
}

/** A queue's labels: its name, and its shard when it is one of the sharded ingest queues. */
function labelsOf(queue: Queue): { queue: string; shard?: string } {
  const shard = shardOfQueueName(queue.name);
  return shard === undefined ? { queue: queue.name } : { queue: queue.name, shard: String(shard) };
}

/**
 * Reads every queue at once: while Redis is away each read gives up after its own second, so a
 * scrape takes a second, not a second per queue.
 */
async function eachQueue(queues: readonly Queue[], read: (queue: Queue) => Promise<void>): Promise<void> {
  await Promise.all(queues.map(read));
}

/** The age of the oldest of `jobs` by their `timestamp` (when each was added), 0 for none. */
function ageSeconds(jobs: readonly { timestamp: number }[]): number {
  if (jobs.length === 0) {
    return 0;
  }
  const oldest = Math.min(...jobs.map((job) => job.timestamp));
  return Math.max(0, (Date.now() - oldest) / 1000);
}

/**
 * The value, or undefined when Redis does not answer within a second: a scrape while Redis is away
 * must still return (the gauges keep their last values) instead of hanging until it is back.
 */
async function answered<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await withDeadline(promise, 1000, 'redis did not answer within 1000 ms');
  } catch {
    return undefined;
  }
}
