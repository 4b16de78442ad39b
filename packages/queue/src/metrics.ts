import { withDeadline } from '@imsync/async';
import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';

// Job states a queue can hold, as BullMQ's getJobCounts names them.
const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;

/**
 * Queue depth by state and the age of the oldest waiting job, read from Redis at scrape time.
 * Every process that registers them reports the same numbers: aggregate with max(), not sum().
 */
export function registerQueueMetrics(registry: Registry, prefix: string, queues: readonly Queue[]): void {
  new Gauge({
    name: `${prefix}queue_jobs`,
    help: 'Jobs in each queue, by state.',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      for (const queue of queues) {
        const counts = await answered(queue.getJobCounts(...STATES));
        if (!counts) {
          continue;
        }
        for (const state of STATES) {
          this.set({ queue: queue.name, state }, counts[state] ?? 0);
        }
      }
    },
  });
  new Gauge({
    name: `${prefix}queue_paused`,
    help: '1 while the queue is paused (its waiting jobs are not taken), else 0.',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      for (const queue of queues) {
        const paused = await answered(queue.isPaused());
        if (paused !== undefined) {
          this.set({ queue: queue.name }, paused ? 1 : 0);
        }
      }
    },
  });
  new Gauge({
    name: `${prefix}queue_oldest_waiting_age_seconds`,
    help: 'How long the oldest waiting job has waited (0 when none waits): a growing value means workers fall behind.',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      for (const queue of queues) {
        const jobs = await answered(queue.getJobs(['wait'], 0, 0, true));
        if (!jobs) {
          continue;
        }
        const [oldest] = jobs;
        this.set({ queue: queue.name }, oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0);
      }
    },
  });
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
