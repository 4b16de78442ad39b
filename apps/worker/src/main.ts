import { closeRedis, createRedis, INGEST_QUEUE, registerQueueMetrics } from '@imsync/queue';
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
import { Queue } from 'bullmq';
import { loadWorkerConfig } from './config.js';
import { createRedisDedupe } from './dedupe.js';
import { createWorkerMetrics } from './metrics.js';
import { createIngestWorker, type IngestWorkerHandle } from './worker.js';

// Process start: parse config, build the dependencies, start, and wire shutdown. No logic here.

const config = loadConfigOrExit('imsync-worker', () => loadWorkerConfig(process.env));
const logger = createLogger({ name: 'imsync-worker', level: config.LOG_LEVEL });

const pool = createPool({
  connectionString: config.DATABASE_URL,
  max: config.PG_POOL_MAX,
  onIdleError: (error) => logger.warn({ err: error }, 'idle PostgreSQL connection lost'),
});
const redis = createRedis(config.REDIS_URL, { role: 'worker', connectionName: 'imsync-worker' });
redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
// The markers of all jobs in progress go out together: one socket write per turn, not per job.
const dedupeRedis = createRedis(config.REDIS_URL, {
  role: 'worker',
  connectionName: 'imsync-worker-dedupe',
  autoPipelining: true,
});
dedupeRedis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));

const registry = createRegistry({ service: 'worker' });
const metricsQueue = new Queue(INGEST_QUEUE, { connection: redis, prefix: config.QUEUE_PREFIX });
metricsQueue.on('error', () => {});
registerQueueMetrics(registry, METRIC_PREFIX, [metricsQueue]);

let accepting = true;
let ops: OpsServer | undefined;
let ingest: IngestWorkerHandle | undefined;
const archive = new PostgresArchive({ pool });

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
    { name: 'archive', run: () => archive.close() },
    { name: 'metrics queue', run: () => metricsQueue.close() },
    { name: 'postgres', run: () => pool.end() },
    { name: 'redis', run: () => Promise.all([closeRedis(redis), closeRedis(dedupeRedis)]) },
    { name: 'ops server', run: () => (ops ? closeHttpServer(ops.server) : Promise.resolve()) },
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

if (accepting) {
  ingest = createIngestWorker({
    connection: redis,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    maxRetryDelayMs: config.RETRY_MAX_DELAY_MS,
    lockDurationMs: config.JOB_LOCK_MS,
    stalledIntervalMs: config.STALLED_CHECK_MS,
    sdkAppIds: config.apps,
    archive,
    dedupe: createRedisDedupe(dedupeRedis, config.QUEUE_PREFIX, config.DEDUPE_TTL_SECONDS),
    logger,
    metrics: createWorkerMetrics(registry),
  });
  logger.info(
    { host: config.METRICS_HOST, port: ops.port, concurrency: config.WORKER_CONCURRENCY, apps: [...config.apps] },
    'worker started',
  );
}
