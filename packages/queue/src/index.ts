export { type GroupMessageJobData, GroupMessageJobDataSchema } from './job.js';
export { registerQueueMetrics } from './metrics.js';
export {
  ALL_QUEUES,
  DEFAULT_QUEUE_PREFIX,
  dedupeMarkerKey,
  GROUP_MESSAGE_JOB,
  GROUP_MESSAGES_QUEUE,
  QueuePrefixVar,
} from './names.js';
export {
  createGroupMessageProducer,
  type GroupMessageProducer,
  type ProducerOptions,
  QueueUnavailableError,
} from './producer.js';
export { closeRedis, createRedis, type RedisConnectionOptions, type RedisRole } from './redis.js';
export {
  BACKOFF_TYPE,
  backoffDelay,
  cappedExponentialBackoff,
  DEFAULT_RETENTION_POLICY,
  DEFAULT_RETRY_POLICY,
  groupMessageJobOptions,
  type JobRetryOptions,
  type RetentionPolicy,
  type RetryPolicy,
  retryHorizonMs,
} from './retry.js';
