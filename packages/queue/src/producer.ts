import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { GroupMessageJobData } from './job.js';
import { GROUP_MESSAGE_JOB, GROUP_MESSAGES_QUEUE } from './names.js';
import {
  DEFAULT_RETENTION_POLICY,
  DEFAULT_RETRY_POLICY,
  groupMessageJobOptions,
  type JobRetryOptions,
  type RetentionPolicy,
} from './retry.js';

export interface GroupMessageProducer {
  /**
   * Resolves once Redis holds the job. `jobId` is the message key, so enqueueing the same message
   * again while its job is still kept is a no-op. Rejects when Redis is unreachable.
   */
  enqueue(data: GroupMessageJobData, jobId: string): Promise<void>;
  /** Resolves when Redis answers a PING (for readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface ProducerOptions {
  /** A connection created with role `producer`; the caller owns and closes it. */
  connection: Redis;
  prefix: string;
  retry?: JobRetryOptions;
  retention?: RetentionPolicy;
  /** An enqueue that has not completed after this long fails (ms); the caller answers 503. */
  timeoutMs?: number;
}

/** Redis did not take the job: the message is not stored and the callback must not get a 200. */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

export function createGroupMessageProducer(options: ProducerOptions): GroupMessageProducer {
  const queue = new Queue<GroupMessageJobData, void, typeof GROUP_MESSAGE_JOB>(GROUP_MESSAGES_QUEUE, {
    connection: options.connection,
    prefix: options.prefix,
  });
  // A Queue without an error listener would crash the process on a connection error.
  queue.on('error', () => {});
  const defaults = groupMessageJobOptions(
    options.retry ?? DEFAULT_RETRY_POLICY,
    options.retention ?? DEFAULT_RETENTION_POLICY,
  );

  const timeoutMs = options.timeoutMs ?? 1000;

  return {
    async enqueue(data, jobId) {
      // Fail at once while disconnected: BullMQ would otherwise wait for the connection.
      if (options.connection.status !== 'ready') {
        throw new QueueUnavailableError(`redis connection is ${options.connection.status}`);
      }
      await withTimeout(queue.add(GROUP_MESSAGE_JOB, data, { ...defaults, jobId }), timeoutMs);
    },
    async ping() {
      await options.connection.ping();
    },
    async close() {
      await queue.close();
    },
  };
}

// The add may still land after the timeout; that is safe, the job id makes a repeat a no-op.
async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new QueueUnavailableError(`redis did not take the job within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
