import type { AddressInfo } from 'node:net';
import { createGroupMessageProducer, createRedis } from '@imsync/queue';
import {
  closeHttpServer,
  createLogger,
  createRegistry,
  createShutdown,
  loadConfigOrExit,
  onSignals,
} from '@imsync/runtime';
import { createApp } from './app.js';
import { loadReceiverConfig } from './config.js';
import { startHttpServer } from './http-server.js';
import { createReceiverMetrics } from './metrics.js';

// Process start: parse config, build the dependencies, listen, and wire shutdown. No logic here.

const config = loadConfigOrExit('imsync-receiver', () => loadReceiverConfig(process.env));
const logger = createLogger({ name: 'imsync-receiver', level: config.LOG_LEVEL });
if (config.TIM_CALLBACK_TOKEN === undefined) {
  logger.warn('TIM_CALLBACK_TOKEN is not set: callbacks are accepted without a signature check');
}

const redis = createRedis(config.REDIS_URL, {
  role: 'producer',
  commandTimeoutMs: config.ENQUEUE_TIMEOUT_MS,
  connectionName: 'imsync-receiver',
});
redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
const producer = createGroupMessageProducer({
  connection: redis,
  prefix: config.QUEUE_PREFIX,
  timeoutMs: config.ENQUEUE_TIMEOUT_MS,
  retry: { attempts: config.JOB_ATTEMPTS, baseDelayMs: config.JOB_BACKOFF_MS },
});

const registry = createRegistry({ service: 'receiver' });
let accepting = true;
const app = createApp({
  config,
  producer,
  logger,
  registry,
  metrics: createReceiverMetrics(registry),
  isAccepting: () => accepting,
});

const server = await startHttpServer(app, {
  hostname: config.HOST,
  port: config.PORT,
  headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
  requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
});
logger.info(
  { host: config.HOST, port: (server.address() as AddressInfo).port, path: config.CALLBACK_PATH },
  'receiver listening',
);

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
    { name: 'redis', run: () => redis.quit() },
  ],
});
onSignals(shutdown, logger);
