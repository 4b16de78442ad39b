import pg from 'pg';

export interface PoolOptions {
  connectionString: string;
  max?: number;
  /** Idle clients die when PostgreSQL restarts; without a listener that error kills the process. */
  onIdleError: (error: Error) => void;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    // A hung query must fail (and the job retry) long before BullMQ's job lock expires.
    statement_timeout: 15_000,
    query_timeout: 20_000,
    application_name: 'imsync',
  });
  pool.on('error', options.onIdleError);
  return pool;
}
