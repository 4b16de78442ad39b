export {
  BACKFILL_PAGE_JOB,
  BACKFILL_QUEUE,
  type BackfillPage,
  BackfillPageSchema,
  backfillPageId,
  GAP_SCAN_JOB,
} from './backfill.js';
export {
  DELIVERY_BACKOFF,
  DELIVERY_JOB,
  DESTINATION_NAME,
  type DeliverableEvent,
  type DeliveryJobData,
  DeliveryJobDataSchema,
  type DestinationSettings,
  DestinationSettingsSchema,
  deliveryJobData,
  deliveryJobOptions,
  deliveryQueueName,
  destinationSettingsKey,
  destinationsKey,
  replayJobId,
} from './deliveries.js';
export { type CallbackJobData, CallbackJobDataSchema, type JobName, traceparentOf } from './jobs.js';
export {
  createQueueLayout,
  QUEUE_LAYOUT_VARS,
  type QueueLayout,
  type QueueLocation,
  queueLayout,
  shardOfQueueName,
} from './layout.js';
export { registerQueueMetrics } from './metrics.js';
export {
  ALL_QUEUES,
  dedupeMarkerKey,
  INGEST_QUEUE,
  QueuePrefixVar,
} from './names.js';
export {
  createJobWriter,
  createProducer,
  type Producer,
} from './producer.js';
export { closeRedis, createRedis, type RedisClient } from './redis.js';
export { REDIS_VARS, type RedisTarget, redisTarget } from './redis-target.js';
export {
  cappedExponentialBackoff,
  DEFAULT_RETENTION_POLICY,
  DEFAULT_RETRY_POLICY,
  ingestJobOptions,
} from './retry.js';
