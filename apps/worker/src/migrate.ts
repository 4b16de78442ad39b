import { createLogger, loadConfigOrExit, parseConfig, urlVar } from '@imsync/runtime';
import { createPool, migrate } from '@imsync/sinks';
import * as v from 'valibot';

// `pnpm migrate`: the schema without a worker (workers also migrate at start; both are safe at once).

const config = loadConfigOrExit('imsync-migrate', () =>
  parseConfig(v.object({ DATABASE_URL: urlVar(['postgres:', 'postgresql:']) }), process.env),
);
const logger = createLogger({ name: 'imsync-migrate', level: 'info' });
const pool = createPool({ connectionString: config.DATABASE_URL, max: 1, onIdleError: () => {} });
try {
  const applied = await migrate(pool);
  logger.info({ applied }, applied.length > 0 ? 'database migrated' : 'database schema up to date');
} finally {
  await pool.end();
  logger.flush();
}
