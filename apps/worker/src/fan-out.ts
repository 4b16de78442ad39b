import {
  createJobWriter,
  DELIVERY_JOB,
  deliveryJobData,
  deliveryJobOptions,
  type QueueLayout,
  type RedisClient,
} from '@imsync/queue';
import type { ArchivedEvent } from '@imsync/sinks';

/** What the fan-out needs of a destination: its queue, its subscription, its number of attempts. */
export interface FanOutTarget {
  readonly name: string;
  /** Absent: every command. */
  readonly commands?: ReadonlySet<string>;
  readonly attempts: number;
}

/** Hands an archived event to every destination that subscribes to its command. */
export interface FanOut {
  /** `traceparent`: the ingest job's trace, which each delivery joins. */
  deliver(event: ArchivedEvent, traceparent?: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * One delivery job per destination, on that destination's own queue, with the event key as its
 * job id: a fan-out repeated (a retried ingest job) adds nothing while the first job is kept.
 * The jobs of concurrent events share one Redis call per destination.
 */
export function createFanOut(options: {
  connection: RedisClient;
  layout: QueueLayout;
  targets: readonly FanOutTarget[];
  timeoutMs?: number;
  /** Replicas that must hold each delivery job before the ingest job completes (REDIS_WAIT_REPLICAS). */
  waitReplicas?: number;
}): FanOut {
  const writers = options.targets.map((target) => ({
    target,
    writer: createJobWriter({
      connection: options.connection,
      prefix: options.layout.delivery(target.name).prefix,
      queue: options.layout.delivery(target.name).name,
      jobOptions: deliveryJobOptions(target.attempts),
      timeoutMs: options.timeoutMs ?? 5000,
      waitReplicas: options.waitReplicas,
    }),
  }));
  return {
    async deliver(event, traceparent) {
      const json = deliveryJobData(event, traceparent);
      await Promise.all(
        writers
          .filter(({ target }) => !target.commands || target.commands.has(event.command))
          .map(({ writer }) => writer.add(DELIVERY_JOB, json, event.key)),
      );
    },
    async close() {
      await Promise.all(writers.map(({ writer }) => writer.close()));
    },
  };
}
