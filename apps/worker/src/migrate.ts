import { createLogger, loadConfigOrExit, parseConfig } from '@imsync/runtime';
import { createPool, grantWriterRole, migrate } from '@imsync/sinks';
import { MigrateEnvSchema } from './config.js';

// `pnpm migrate` (compose: the migrate service): the schema, as the database owner, and the
// workers' own role with only the rights they need (workers then never run DDL).

const config = loadConfigOrExit('imsync-migrate', () => parseConfig(MigrateEnvSchema, process.env));
const logger = createLogger({ name: 'imsync-migrate', level: 'info' });
const pool = createPool({ connectionString: config.DATABASE_URL, max: 1, onIdleError: () => {} });
try {
  const applied = await migrate(pool);
  logger.info({ applied }, applied.length > 0 ? 'database migrated' : 'database schema up to date');
  if (config.ARCHIVE_WRITER_ROLE !== undefined) {
    await grantWriterRole(pool, { role: config.ARCHIVE_WRITER_ROLE, password: config.ARCHIVE_WRITER_PASSWORD });
    logger.info({ role: config.ARCHIVE_WRITER_ROLE }, 'archive writer role granted');
  }
} finally {
  await pool.end();
  logger.flush();
}
