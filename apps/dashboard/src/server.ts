import { closeRedis, createRedis, queueLayout, redisTarget, registerQueueMetrics } from '@imsync/queue';
import {
  closeHttpServer,
  createLogger,
  createRegistry,
  createShutdown,
  listen,
  loadConfigOrExit,
  METRIC_PREFIX,
  onSignals,
  startOrExit,
} from '@imsync/runtime';
import { createDashboardApp } from './app.js';
import { createAuth } from './auth.js';
import { openBoardQueues } from './board-queues.js';
import { loadDashboardConfig } from './config.js';
import { createDashboardServer } from './dashboard-server.js';
import { startDestinationDiscovery } from './destination-queues.js';
import { loadOrCreatePassword } from './password-file.js';

// Process start: parse config, build the dependencies, listen, and wire shutdown. No logic here.

/** How often the set of destinations is read again: a destination a worker adds shows within this. */
const DESTINATION_DISCOVERY_INTERVAL_MS = 10_000;

const config = loadConfigOrExit('imsync-dashboard', () => loadDashboardConfig(process.env));
const logger = createLogger({ name: 'imsync-dashboard', level: config.LOG_LEVEL });
if (config.DASHBOARD_LOCAL_ONLY) {
  logger.warn('DASHBOARD_LOCAL_ONLY: no login; listening on loopback only');
}

const passwordFile = config.DASHBOARD_PASSWORD_FILE;
const password =
  config.DASHBOARD_PASSWORD ??
  // Without a user there is no login (local-only mode), so no password to generate either.
  (passwordFile === undefined || config.DASHBOARD_USER === undefined
    ? undefined
    : await startOrExit('imsync-dashboard', async () => {
        const found = await loadOrCreatePassword(passwordFile, config.HOST);
        if (found.generated) {
          // Where the password is, never the password: logs travel further than a file on a volume.
          logger.warn(
            { passwordFile },
            `generated a dashboard password for user ${config.DASHBOARD_USER} into ${passwordFile}; ` +
              `read it with: docker compose exec dashboard cat ${passwordFile} (or cat it where the dashboard runs)`,
          );
        }
        return found.password;
      }));

const target = redisTarget(config);
const layout = queueLayout(config, target);
const redis = createRedis(target, { role: 'worker', connectionName: 'imsync-dashboard' });
redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
const { queues, open: openQueue } = openBoardQueues(layout, redis, (error, queue) =>
  logger.warn({ err: error.message, queue }, 'queue error'),
);
const destinations = startDestinationDiscovery({
  redis,
  layout,
  openQueue,
  logger,
  intervalMs: DESTINATION_DISCOVERY_INTERVAL_MS,
});

const registry = createRegistry({ service: 'dashboard' });
registerQueueMetrics(registry, METRIC_PREFIX, () => [...queues, ...destinations.list().map(({ queue }) => queue)]);
let accepting = true;
const app = createDashboardApp({
  queues,
  destinations,
  auth:
    config.DASHBOARD_USER !== undefined && password !== undefined
      ? createAuth({
          credentials: { user: config.DASHBOARD_USER, password },
          secret: config.DASHBOARD_SESSION_SECRET,
          redis,
          keyPrefix: config.QUEUE_PREFIX,
        })
      : undefined,
  readOnly: config.DASHBOARD_READ_ONLY,
  allowDestructive: config.DASHBOARD_ALLOW_DESTRUCTIVE,
  trustProxy: config.DASHBOARD_TRUST_PROXY,
  loginLimits: {
    perAddress: config.DASHBOARD_LOGIN_FAILURES_PER_ADDRESS,
    total: config.DASHBOARD_LOGIN_FAILURES_TOTAL,
  },
  logger,
  registry,
  ping: () => redis.ping(),
  isAccepting: () => accepting,
});

const server = createDashboardServer(app);
const shutdown = createShutdown({
  logger,
  deadlineMs: config.SHUTDOWN_TIMEOUT_MS,
  exit: (code) => process.exit(code),
  steps: [
    {
      name: 'http server',
      run: () => {
        accepting = false;
        return closeHttpServer(server);
      },
    },
    { name: 'queues', run: () => Promise.all([...queues.map((queue) => queue.close()), destinations.close()]) },
    { name: 'redis', run: () => closeRedis(redis) },
  ],
});
onSignals(shutdown, logger);

const address = await startOrExit('imsync-dashboard', () =>
  listen(server, { host: config.HOST, port: config.PORT, portVariable: 'PORT' }),
);
logger.info(
  {
    host: config.HOST,
    port: address.port,
    readOnly: config.DASHBOARD_READ_ONLY,
    allowDestructive: config.DASHBOARD_ALLOW_DESTRUCTIVE,
  },
  'dashboard listening',
);
