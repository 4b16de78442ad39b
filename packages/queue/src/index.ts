export { type CallbackJobData, CallbackJobDataSchema, JOB_CATALOG, type JobData, type JobName } from './jobs.js';
export { registerQueueMetrics } from './metrics.js';
export {
  ALL_QUEUES,
  DEFAULT_QUEUE_PREFIX,
  dedupeMarkerKey,
  INGEST_QUEUE,
  QueuePrefixVar,
} from './names.js';
export {
  createProducer,
  type EnqueueOutcome,
  type Producer,
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
  ingestJobOptions,
  type JobRetryOptions,
  type RetentionPolicy,
  type RetryPolicy,
  retryHorizonMs,
} from './retry.js';
