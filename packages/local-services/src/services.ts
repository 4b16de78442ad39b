/** A Redis or PostgreSQL server a test owns, so it can stop it and start it again. */
export interface ServiceHandle {
  readonly host: string;
  readonly port: number;
  /**
   * Stops the server. `graceful` flushes and exits cleanly; `crash` kills it without warning
   * (Redis: SIGKILL; PostgreSQL: SIGQUIT, an immediate shutdown that needs crash recovery).
   */
  stop(mode?: 'graceful' | 'crash'): Promise<void>;
  /** Starts it again on the same port with the data it had. */
  start(): Promise<void>;
  /** Stops it for good and deletes its data. */
  dispose(): Promise<void>;
  /** The server's process id while it runs here (not in a container), for CPU and memory readings. */
  pid(): number | undefined;
}

export interface RedisService extends ServiceHandle {
  readonly url: string;
}

export interface PostgresService extends ServiceHandle {
  /** URL of a database on this server (default `postgres`). */
  url(database?: string): string;
  /** Creates an empty database with a unique name and returns its URL. */
  createDatabase(): Promise<string>;
}

/** Creates an empty database with a unique name on the server at `adminUrl`; returns its name. */
export async function createUniqueDatabase(adminUrl: string): Promise<string> {
  const { default: pg } = await import('pg');
  const { randomBytes } = await import('node:crypto');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return name;
}
