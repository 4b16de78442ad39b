import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { ALL_QUEUES, createRedis, registerQueueMetrics } from '@imsync/queue';
import {
  closeHttpServer,
  createLogger,
  createRegistry,
  createShutdown,
  loadConfigOrExit,
  METRIC_PREFIX,
  onSignals,
} from '@imsync/runtime';
import { Queue } from 'bullmq';
import { createDashboardApp } from './app.js';
import { createAuth } from './auth.js';
import { loadDashboardConfig } from './config.js';

// Process start: parse config, build the dependencies, listen, and wire shutdown. No logic here.

const config = loadConfigOrExit('imsync-dashboard', () => loadDashboardConfig(process.env));
const logger = createLogger({ name: 'imsync-dashboard', level: config.LOG_LEVEL });
if (config.DASHBOARD_LOCAL_ONLY) {
  logger.warn('DASHBOARD_LOCAL_ONLY: no login; listening on loopback only');
}

const redis = createRedis(config.REDIS_URL, { role: 'worker', connectionName: 'imsync-dashboard' });
redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
const queues = ALL_QUEUES.map((name) => {
  const queue = new Queue(name, { connection: redis, prefix: config.QUEUE_PREFIX });
  queue.on('error', (error) => logger.warn({ err: error.message, queue: name }, 'queue error'));
  return queue;
});

const registry = createRegistry({ service: 'dashboard' });
registerQueueMetrics(registry, METRIC_PREFIX, queues);
let accepting = true;
const app = createDashboardApp({
  queues,
  auth:
    config.DASHBOARD_USER !== undefined && config.DASHBOARD_PASSWORD !== undefined
      ? createAuth(
          { user: config.DASHBOARD_USER, password: config.DASHBOARD_PASSWORD },
          config.DASHBOARD_SESSION_SECRET,
        )
      : undefined,
  readOnly: config.DASHBOARD_READ_ONLY,
  logger,
  registry,
  ping: () => redis.ping(),
  isAccepting: () => accepting,
});

const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info: AddressInfo) => {
  logger.info({ host: config.HOST, port: info.port, readOnly: config.DASHBOARD_READ_ONLY }, 'dashboard listening');
});

const shutdown = createShutdown({
  logger,
  deadlineMs: config.SHUTDOWN_TIMEOUT_MS,
  exit: (code) => process.exit(code),
  steps: [
    {
      name: 'http server',
      run: () => {
        accepting = false;
        return closeHttpServer(server as Server);
      },
    },
    { name: 'queues', run: () => Promise.all(queues.map((queue) => queue.close())) },
    { name: 'redis', run: () => redis.quit() },
  ],
});
onSignals(shutdown, logger);
