import { createLogger, loadConfigOrExit, parseConfig } from '@imsync/runtime';
import { createPool, grantWriterRole, maintainArchive, migrate } from '@imsync/sinks';
import { MigrateEnvSchema } from './config.js';

// `pnpm migrate` (compose: the migrate service): the schema, as the database owner, and the
// workers' own role with only the rights they need (workers then never run DDL).

const config = loadConfigOrExit('imsync-migrate', () => parseConfig(MigrateEnvSchema, process.env));
const logger = createLogger({ name: 'imsync-migrate', level: 'info' });
const pool = createPool({ connectionString: config.DATABASE_URL, max: 1, onIdleError: () => {} });
try {
  const applied = await migrate(pool);
  logger.info({ applied }, applied.length > 0 ? 'database migrated' : 'database schema up to date');
  // This week's partitions, so a database nobody runs the archive maintenance on yet still gets
  // its rows by day (the maintenance keeps them coming, and applies retention).
  const report = await maintainArchive(pool, { aheadDays: 7 });
  logger.info({ created: report.created.map((c) => c.partition) }, 'archive partitions ready');
  if (config.ARCHIVE_WRITER_ROLE !== undefined) {
    await grantWriterRole(pool, { role: config.ARCHIVE_WRITER_ROLE, password: config.ARCHIVE_WRITER_PASSWORD });
    logger.info({ role: config.ARCHIVE_WRITER_ROLE }, 'archive writer role granted');
  }
} finally {
  await pool.end();
  logger.flush();
}
