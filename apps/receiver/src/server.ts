import { closeRedis, createProducer, createRedis, queueLayout, redisTarget } from '@imsync/queue';
import {
  closeHttpServer,
  createLogger,
  createRegistry,
  createShutdown,
  listen,
  loadConfigOrExit,
  type OpsServer,
  onSignals,
  startOpsServer,
  startOrExit,
} from '@imsync/runtime';
import { startTracing } from '@imsync/tracing';
import { createApp } from './app.js';
import { createCallbackServer } from './callback-server.js';
import { loadReceiverConfig } from './config.js';
import { createReceiverMetrics } from './metrics.js';
import { receiverOpsRoutes } from './ops.js';

// Process start: parse config, build the dependencies, listen, and wire shutdown. No logic here.

const config = loadConfigOrExit('imsync-receiver', () => loadReceiverConfig(process.env));
const logger = createLogger({ name: 'imsync-receiver', level: config.LOG_LEVEL });
// Before anything makes a span: OTEL_* turns it on (README, "Following one message").
const tracing = await startTracing({ service: 'imsync-receiver', env: config });
if (config.TIM_CALLBACK_AUTH === 'off') {
  logger.warn('TIM_CALLBACK_AUTH=off: callbacks are not authenticated; anyone who can reach PORT can enqueue');
}

const target = redisTarget(config);
const redis = createRedis(target, {
  role: 'producer',
  commandTimeoutMs: config.ENQUEUE_TIMEOUT_MS,
  connectionName: 'imsync-receiver',
});
redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
const producer = createProducer({
  connection: redis,
  layout: queueLayout(config, target),
  waitReplicas: config.REDIS_WAIT_REPLICAS,
  timeoutMs: config.ENQUEUE_TIMEOUT_MS,
  batchWindowMs: config.ENQUEUE_BATCH_WINDOW_MS,
  retry: { attempts: config.JOB_ATTEMPTS, baseDelayMs: config.JOB_BACKOFF_MS },
});

const registry = createRegistry({ service: 'receiver' });
let accepting = true;
const app = createApp({ config, producer, logger, metrics: createReceiverMetrics(registry) });
const server = createCallbackServer(app, {
  headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
  requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
  maxConnections: config.MAX_CONNECTIONS,
});
let ops: OpsServer | undefined;

// Signals are handled before anything listens: a SIGTERM right after start is a clean shutdown too.
const shutdown = createShutdown({
  logger,
  deadlineMs: config.SHUTDOWN_TIMEOUT_MS,
  exit: (code) => process.exit(code),
  steps: [
    {
      // Stop accepting connections, let in-flight requests finish (their replies depend on Redis).
      name: 'http server',
      run: () => {
        accepting = false;
        return closeHttpServer(server);
      },
    },
    { name: 'queue', run: () => producer.close() },
    { name: 'redis', run: () => closeRedis(redis) },
    { name: 'ops server', run: () => (ops ? closeHttpServer(ops.server) : Promise.resolve()) },
    { name: 'tracing', run: () => tracing.shutdown() },
  ],
});
onSignals(shutdown, logger);

// The ops port first, as the worker does: a port that is taken stops the process before the
// public port takes a single callback.
ops = await startOrExit('imsync-receiver', () =>
  startOpsServer({
    ...receiverOpsRoutes({ registry, producer, isAccepting: () => accepting }),
    host: config.METRICS_HOST,
    port: config.METRICS_PORT,
    portVariable: 'METRICS_PORT',
  }),
);
const address = await startOrExit('imsync-receiver', () =>
  listen(server, { host: config.HOST, port: config.PORT, portVariable: 'PORT' }),
);
logger.info(
  {
    host: config.HOST,
    port: address.port,
    path: config.CALLBACK_PATH,
    opsHost: config.METRICS_HOST,
    opsPort: ops.port,
    maxConnections: config.MAX_CONNECTIONS,
    apps: [...config.apps.keys()],
    commands: [...config.TIM_COMMANDS],
  },
  'receiver listening',
);
