import type { Pool } from 'pg';

/**
 * What the archive writer (the workers' role) may do, table by table: read and add rows, and mark
 * a message recalled, nothing else. No DELETE, TRUNCATE, DDL or ownership, and no UPDATE of what
 * a message said: a compromised worker cannot destroy or rewrite the archive.
 */
const WRITER_GRANTS: Readonly<Record<string, readonly string[]>> = {
  group_messages: ['SELECT', 'INSERT', 'UPDATE (recalled_at, recalled_by, recall_payload)'],
  group_recalls: ['SELECT', 'INSERT'],
  c2c_messages: ['SELECT', 'INSERT', 'UPDATE (recalled_at, recall_payload)'],
  c2c_recalls: ['SELECT', 'INSERT'],
  group_events: ['SELECT', 'INSERT'],
  // Gap detection and backfill: their own bookkeeping, nothing of the archive's content.
  sequence_accounts: ['SELECT', 'INSERT'],
  sequence_marks: ['SELECT', 'INSERT', 'UPDATE'],
  sequence_holes: ['SELECT', 'INSERT', 'UPDATE'],
  gap_scan_state: ['SELECT', 'INSERT', 'UPDATE'],
  imsync_migrations: ['SELECT'],
};

export interface WriterRoleOptions {
  role: string;
  /** Created with this password when the role does not exist yet, and reset to it when it does. */
  password?: string;
}

/**
 * Provisions the workers' role after a migration, as the owner: creates it if asked (the owner
 * then needs CREATEROLE) and grants exactly WRITER_GRANTS. Idempotent, so every migrate run
 * brings the grants up to date with the tables.
 */
export async function grantWriterRole(pool: Pool, options: WriterRoleOptions): Promise<void> {
  const client = await pool.connect();
  try {
    const role = client.escapeIdentifier(options.role);
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [options.role]);
    if (options.password !== undefined) {
      const password = client.escapeLiteral(options.password);
      await client.query(
        rowCount === 0
          ? `CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD ${password}`
          : `ALTER ROLE ${role} PASSWORD ${password}`,
      );
    } else if (rowCount === 0) {
      throw new Error(`role ${options.role} does not exist: create it, or give its password so it is created`);
    }
    const database = client.escapeIdentifier(
      (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db ?? '',
    );
    await client.query(`GRANT CONNECT ON DATABASE ${database} TO ${role}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    for (const [table, privileges] of Object.entries(WRITER_GRANTS)) {
      await client.query(`REVOKE ALL ON ${client.escapeIdentifier(table)} FROM ${role}`);
      await client.query(`GRANT ${privileges.join(', ')} ON ${client.escapeIdentifier(table)} TO ${role}`);
    }
  } finally {
    client.release();
  }
}
