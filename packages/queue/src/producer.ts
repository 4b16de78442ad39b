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

  return {
    async enqueue(data, jobId) {
      await queue.add(GROUP_MESSAGE_JOB, data, { ...defaults, jobId });
    },
    async ping() {
      await options.connection.ping();
    },
    async close() {
      await queue.close();
    },
  };
}
