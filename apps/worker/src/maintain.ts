import { parseArgs } from 'node:util';
import {
  closeHttpServer,
  createLogger,
  createRegistry,
  createShutdown,
  loadConfigOrExit,
  type OpsServer,
  onSignals,
  parseConfig,
  startOpsServer,
  startOrExit,
} from '@imsync/runtime';
import { createPool } from '@imsync/sinks';
import { MaintainEnvSchema } from './config.js';
import { createArchiveMaintenance } from './maintenance/runner.js';

// `pnpm archive:maintain` (compose: the archive-maintenance service): partitions ahead of time and
// retention, as the database owner, every ARCHIVE_MAINTENANCE_INTERVAL_SECONDS.
// `--once`: one pass, then exit (for cron); `--dry-run`: one pass that changes nothing and says
// what it would have created, moved and dropped.

const { values: flags } = parseArgs({
  options: { once: { type: 'boolean', default: false }, 'dry-run': { type: 'boolean', default: false } },
});
const config = loadConfigOrExit('imsync-archive-maintenance', () => parseConfig(MaintainEnvSchema, process.env));
const logger = createLogger({ name: 'imsync-archive-maintenance', level: config.LOG_LEVEL });
const pool = createPool({
  connectionString: config.DATABASE_URL,
  max: 2,
  onIdleError: (error) => logger.warn({ err: error }, 'idle PostgreSQL connection lost'),
});
const registry = createRegistry({ service: 'archive-maintenance' });
const maintenance = createArchiveMaintenance({
  pool,
  logger,
  registry,
  intervalMs: config.ARCHIVE_MAINTENANCE_INTERVAL_SECONDS * 1000,
  pass: {
    aheadDays: config.ARCHIVE_PARTITIONS_AHEAD_DAYS,
    ...(config.ARCHIVE_RETENTION_DAYS !== undefined && { retentionDays: config.ARCHIVE_RETENTION_DAYS }),
    dryRun: flags['dry-run'],
    retentionDryRun: config.ARCHIVE_RETENTION_DRY_RUN === 'true',
    lockTimeoutMs: config.ARCHIVE_MAINTENANCE_LOCK_TIMEOUT_MS,
  },
});

if (flags.once || flags['dry-run']) {
  const report = await maintenance.runOnce();
  await pool.end();
  logger.flush();
  process.exit(report === undefined ? 1 : 0);
}

let ops: OpsServer | undefined;
const shutdown = createShutdown({
  logger,
  deadlineMs: 30_000,
  exit: (code) => process.exit(code),
  steps: [
    { name: 'maintenance', run: () => maintenance.close() },
    { name: 'postgres', run: () => pool.end() },
    { name: 'ops server', run: () => (ops ? closeHttpServer(ops.server) : Promise.resolve()) },
  ],
});
onSignals(shutdown, logger);

ops = await startOrExit('imsync-archive-maintenance', () =>
  startOpsServer({
    registry,
    isAccepting: () => true,
    checks: { postgres: () => pool.query('SELECT 1') },
    host: config.METRICS_HOST,
    port: config.METRICS_PORT,
    portVariable: 'METRICS_PORT',
  }),
);
maintenance.start();
logger.info(
  { metricsPort: ops.port, interval: config.ARCHIVE_MAINTENANCE_INTERVAL_SECONDS },
  'archive maintenance started',
);
