import pg from 'pg';

export interface PoolOptions {
  connectionString: string;
  max?: number;
  /**
   * Idle clients die when PostgreSQL restarts or stops; without a listener that error kills the
   * process. pg-pool's end() resolves before its clients' sockets have closed, so even a pool that
   * was ended can still get one when its server stops right after.
   */
  onIdleError: (error: Error) => void;
  /**
   * `false` for bulk work (loading millions of rows, VACUUM) that may rightly run for minutes.
   * Default: a hung query fails (and the job retries) long before BullMQ's job lock expires.
   */
  statementTimeout?: false;
}

export function createPool(options: PoolOptions): pg.Pool {
  const timeouts = options.statementTimeout === false ? {} : { statement_timeout: 15_000, query_timeout: 20_000 };
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    ...timeouts,
    application_name: 'imsync',
  });
  pool.on('error', options.onIdleError);
  return pool;
}
