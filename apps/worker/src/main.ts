import { createDestinations, loadDestinationsConfig } from '@imsync/destinations';
import {
  closeRedis,
  createRedis,
  type DestinationSettings,
  destinationSettingsKey,
  destinationsKey,
  queueLayout,
  redisTarget,
  registerQueueMetrics,
} from '@imsync/queue';
import {
  ConfigError,
  closeHttpServer,
  createLogger,
  createRegistry,
  createShutdown,
  loadConfigOrExit,
  METRIC_PREFIX,
  type OpsServer,
  onSignals,
  startOpsServer,
  startOrExit,
} from '@imsync/runtime';
import { createPool, migrate, PostgresArchive, SchemaBehindError } from '@imsync/sinks';
import { startTracing } from '@imsync/tracing';
import { Queue } from 'bullmq';
import { loadWorkerConfig } from './config.js';
import { createRedisDedupe } from './dedupe.js';
import { createDeliveryWorker, type DeliveryWorkerHandle } from './delivery-worker.js';
import { createFanOut } from './fan-out.js';
import type { GapWorkerHandle } from './gaps/gap-worker.js';
import { startGapDetection } from './gaps/start.js';
import { createWorkerMetrics } from './metrics.js';
import { createIngestWorker, type IngestWorkerHandle } from './worker.js';

// Process start: parse config, build the dependencies, start, and wire shutdown. No logic here.

const config = loadConfigOrExit('imsync-worker', () => loadWorkerConfig(process.env));
const logger = createLogger({ name: 'imsync-worker', level: config.LOG_LEVEL });
// Before anything makes a span: OTEL_* turns it on (README, "Following one message").
const tracing = await startTracing({ service: 'imsync-worker', env: config });

const pool = createPool({
  connectionString: config.DATABASE_URL,
  max: config.PG_POOL_MAX,
  onIdleError: (error) => logger.warn({ err: error }, 'idle PostgreSQL connection lost'),
});
const target = redisTarget(config);
const layout = queueLayout(config, target);
const redis = createRedis(target, { role: 'worker', connectionName: 'imsync-worker' });
redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
// The markers of all jobs in progress go out together: one socket write per turn, not per job
// (autopipelining; createRedis never turns it on for a Redis Cluster).
// A marker command that hangs (a connection lost in a failover) fails after 5 s instead of holding
// its job, and with it a slot of the worker, for ever: the job is retried, the archive stays unique.
const dedupeRedis = createRedis(target, {
  role: 'worker',
  connectionName: 'imsync-worker-dedupe',
  autoPipelining: true,
  commandTimeoutMs: 5000,
});
dedupeRedis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));

// The destinations beyond the archive (IMSYNC_SINKS_FILE, or SYNC_HTTP_URL and SYNC_HTTP_SECRET).
const destinationConfigs = loadConfigOrExit('imsync-worker', () => loadDestinationsConfig(process.env));

const registry = createRegistry({ service: 'worker' });
const metricsQueues = [
  ...layout.consumed,
  layout.backfill,
  ...destinationConfigs.map((d) => layout.delivery(d.name)),
].map((location) => {
  const queue = new Queue(location.name, { connection: redis, prefix: location.prefix });
  queue.on('error', () => {});
  return queue;
});
registerQueueMetrics(registry, METRIC_PREFIX, () => metricsQueues);
const metrics = createWorkerMetrics(registry);

let accepting = true;
let ops: OpsServer | undefined;
let ingest: IngestWorkerHandle | undefined;
let deliveries: DeliveryWorkerHandle[] = [];
let gaps: GapWorkerHandle | undefined;
const archive = new PostgresArchive({ pool });
const fanOut =
  destinationConfigs.length === 0
    ? undefined
    : createFanOut({
        connection: redis,
        layout,
        waitReplicas: config.REDIS_WAIT_REPLICAS,
        targets: destinationConfigs.map((d) => ({
          name: d.name,
          attempts: d.retrySchedule.length,
          ...(d.commands && { commands: d.commands }),
        })),
      });

// Signals are handled before anything starts: a SIGTERM right after start is a clean shutdown too.
const shutdown = createShutdown({
  logger,
  deadlineMs: config.SHUTDOWN_TIMEOUT_MS,
  exit: (code) => process.exit(code),
  steps: [
    // Stop taking jobs and let the active ones finish; their rows are in the archive's current batch.
    {
      name: 'worker',
      run: () => {
        accepting = false;
        return ingest ? ingest.close() : Promise.resolve();
      },
    },
    // A backfill page in flight finishes (or is taken over later); its messages are in the ingest queue.
    { name: 'gap detection', run: () => gaps?.close() ?? Promise.resolve() },
    { name: 'archive', run: () => archive.close() },
    { name: 'fan-out', run: () => fanOut?.close() ?? Promise.resolve() },
    // Deliveries in flight finish (or are abandoned to a retry); their destinations close.
    { name: 'deliveries', run: () => Promise.all(deliveries.map((delivery) => delivery.close())) },
    { name: 'metrics queues', run: () => Promise.all(metricsQueues.map((queue) => queue.close())) },
    { name: 'postgres', run: () => pool.end() },
    { name: 'redis', run: () => Promise.all([closeRedis(redis), closeRedis(dedupeRedis)]) },
    { name: 'ops server', run: () => (ops ? closeHttpServer(ops.server) : Promise.resolve()) },
    { name: 'tracing', run: () => tracing.shutdown() },
  ],
});
onSignals(shutdown, logger);

// The ops port first: a port that is taken stops the process before it takes a single job.
ops = await startOrExit('imsync-worker', () =>
  startOpsServer({
    registry,
    isAccepting: () => accepting,
    checks: { redis: () => redis.ping(), postgres: () => pool.query('SELECT 1') },
    host: config.METRICS_HOST,
    port: config.METRICS_PORT,
    portVariable: 'METRICS_PORT',
  }),
);

// Up to date: one SELECT, which the workers' least-privileged role may run. Behind, and that role
// may not migrate: one line saying to run the migrations as the owner.
const applied = await startOrExit('imsync-worker', () =>
  migrate(pool).catch((error: unknown) => {
    throw error instanceof SchemaBehindError ? new ConfigError(`DATABASE_URL: ${error.message}`) : error;
  }),
);
logger.info({ applied }, applied.length > 0 ? 'database migrated' : 'database schema up to date');

const destinations = await startOrExit('imsync-worker', () => createDestinations(destinationConfigs));
if (accepting && destinations.length > 0) {
  // The dashboard and `imsync replay` find the destinations' queues here.
  await redis.sadd(destinationsKey(config.QUEUE_PREFIX), ...destinations.map((d) => d.name));
  await redis.hset(
    destinationSettingsKey(config.QUEUE_PREFIX),
    Object.fromEntries(
      destinationConfigs.map((d) => {
        const settings: DestinationSettings = {
          attempts: d.retrySchedule.length,
          ...(d.commands && { commands: [...d.commands] }),
        };
        return [d.name, JSON.stringify(settings)];
      }),
    ),
  );
  deliveries = destinations.map((destination, i) => {
    const destinationConfig = destinationConfigs[i] as (typeof destinationConfigs)[number];
    return createDeliveryWorker({
      connection: redis,
      layout,
      destination,
      retrySchedule: destinationConfig.retrySchedule,
      concurrency: destinationConfig.concurrency ?? config.DELIVERY_CONCURRENCY,
      ...(destinationConfig.rateLimit && { rateLimit: destinationConfig.rateLimit }),
      lockDurationMs: config.JOB_LOCK_MS,
      stalledIntervalMs: config.STALLED_CHECK_MS,
      logger,
      metrics,
    });
  });
}

if (accepting) {
  ingest = createIngestWorker({
    connection: redis,
    queues: layout.consumed,
    concurrency: config.WORKER_CONCURRENCY,
    maxRetryDelayMs: config.RETRY_MAX_DELAY_MS,
    lockDurationMs: config.JOB_LOCK_MS,
    stalledIntervalMs: config.STALLED_CHECK_MS,
    sdkAppIds: config.apps,
    archive,
    ...(fanOut && { fanOut }),
    dedupe: createRedisDedupe(dedupeRedis, config.QUEUE_PREFIX, config.DEDUPE_TTL_SECONDS),
    logger,
    metrics,
  });
  if (config.GAP_DETECTION === 'on') {
    gaps = startGapDetection({
      connection: redis,
      layout,
      waitReplicas: config.REDIS_WAIT_REPLICAS,
      pool,
      secretKeys: config.secretKeys,
      tencentBaseUrl: config.TIM_API_BASE_URL,
      adminIdentifier: config.TIM_ADMIN_IDENTIFIER,
      graceMs: config.GAP_GRACE_SECONDS * 1000,
      scanIntervalMs: config.GAP_SCAN_INTERVAL_MS,
      tailIntervalMs: config.GAP_TAIL_CHECK_SECONDS * 1000,
      activeWindowMs: config.GAP_ACTIVE_WINDOW_SECONDS * 1000,
      rate: config.BACKFILL_RATE,
      concurrency: config.BACKFILL_CONCURRENCY,
      lockDurationMs: config.JOB_LOCK_MS,
      stalledIntervalMs: config.STALLED_CHECK_MS,
      registry,
      metrics,
      logger,
    });
  }
  logger.info(
    {
      host: config.METRICS_HOST,
      port: ops.port,
      concurrency: config.WORKER_CONCURRENCY,
      apps: [...config.apps],
      destinations: destinations.map((d) => d.name),
      gapDetection: config.GAP_DETECTION,
      backfilled: [...config.secretKeys.keys()],
    },
    'worker started',
  );
}
