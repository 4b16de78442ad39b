import type { Pool, PoolClient } from 'pg';

/** The archives partitioned by message day (migration 5). */
export const PARTITIONED_ARCHIVES = ['group_messages', 'c2c_messages'] as const;
export type PartitionedArchive = (typeof PARTITIONED_ARCHIVES)[number];

const DAY_MS = 86_400_000;

export interface MaintenanceOptions {
  /** Days from today (UTC) that get their partition ahead of time. */
  readonly aheadDays: number;
  /** Whole days of messages kept; partitions older than that are dropped. Undefined: keep all. */
  readonly retentionDays?: number;
  /** Plan only: report what would be created, moved and dropped, change nothing. */
  readonly dryRun?: boolean;
  /** Create and move for real, but only report the partitions retention would drop. */
  readonly retentionDryRun?: boolean;
  /** How long a DDL statement waits for its lock before the pass gives up (and the next tries again). */
  readonly lockTimeoutMs?: number;
  readonly now?: Date;
}

export interface PartitionCreation {
  readonly table: PartitionedArchive;
  readonly partition: string;
  readonly day: string;
  /** The day's start. */
  readonly from: Date;
  /** Rows of that day that were waiting in the default partition and moved to it. */
  readonly movedRows: number;
}

export interface PartitionDrop {
  readonly table: PartitionedArchive;
  readonly partition: string;
  /** The partition's upper bound: every message in it is older than this. */
  readonly before: string;
}

export interface MaintenanceReport {
  readonly dryRun: boolean;
  /** True when `dropped` lists what retention would have dropped, not what it dropped. */
  readonly retentionDryRun: boolean;
  /** False when another process held the maintenance lock: this pass did nothing. */
  readonly ran: boolean;
  readonly created: readonly PartitionCreation[];
  readonly dropped: readonly PartitionDrop[];
  /** Per archive after the pass: day partitions (the default one not counted), and rows in the default one. */
  readonly tables: readonly {
    table: PartitionedArchive;
    partitions: number;
    defaultRows: number;
    oldest: Date | null;
  }[];
}

interface Partition {
  readonly name: string;
  /** Null: unbounded (MINVALUE). */
  readonly from: Date | null;
  readonly to: Date | null;
}

// Any constant, the same in every process: two maintenance passes never run at once.
const MAINTENANCE_LOCK_KEY = 0x1_5e_c0df;

const startOfUtcDay = (time: Date) => new Date(Math.floor(time.getTime() / DAY_MS) * DAY_MS);
const dayName = (day: Date) => day.toISOString().slice(0, 10).replaceAll('-', '');

/**
 * One pass of archive maintenance, as the schema owner: a partition for each day from today to
 * `aheadDays` ahead, a partition for each day that has rows waiting in the default partition
 * (moved there in the same transaction), then the days past retention dropped whole. Every
 * statement changes one partition in its own transaction, so a pass cut short leaves the archive
 * whole, and the next pass does what is left.
 */
export async function maintainArchive(pool: Pool, options: MaintenanceOptions): Promise<MaintenanceReport> {
  const now = options.now ?? new Date();
  const dryRun = options.dryRun ?? false;
  const retentionDryRun = dryRun || (options.retentionDryRun ?? false);
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      MAINTENANCE_LOCK_KEY,
    ]);
    if (!rows[0]?.locked) {
      return { dryRun, retentionDryRun, ran: false, created: [], dropped: [], tables: [] };
    }
    try {
      // Bounds are read and written in UTC: a day is a UTC day whatever the server's TimeZone.
      await client.query(`SET TimeZone = 'UTC'`);
      await client.query(`SET lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs ?? 5000))}`);
      const created: PartitionCreation[] = [];
      const dropped: PartitionDrop[] = [];
      const tables: MaintenanceReport['tables'][number][] = [];
      for (const table of PARTITIONED_ARCHIVES) {
        const partitions = await listPartitions(client, table);
        for (const day of await daysToCreate(client, table, partitions, now, options.aheadDays)) {
          created.push(await createDayPartition(client, table, day, dryRun));
        }
        if (options.retentionDays !== undefined) {
          const horizon = new Date(startOfUtcDay(now).getTime() - options.retentionDays * DAY_MS);
          // A dry run counts the partitions it would have created too, as the real pass would.
          const current = dryRun
            ? [
                ...partitions,
                ...created
                  .filter((c) => c.table === table)
                  .map((c) => ({ name: c.partition, from: c.from, to: new Date(c.from.getTime() + DAY_MS) })),
              ]
            : await listPartitions(client, table);
          for (const partition of current) {
            if (partition.to !== null && partition.to <= horizon) {
              if (!retentionDryRun) {
                await client.query(`DROP TABLE ${client.escapeIdentifier(partition.name)}`);
              }
              dropped.push({ table, partition: partition.name, before: partition.to.toISOString() });
            }
          }
        }
        tables.push(await describeTable(client, table));
      }
      return { dryRun, retentionDryRun, ran: true, created, dropped, tables };
    } finally {
      await client.query('RESET TimeZone; RESET lock_timeout').catch(() => {});
      await client.query('SELECT pg_advisory_unlock($1)', [MAINTENANCE_LOCK_KEY]).catch(() => {});
    }
  } finally {
    client.release();
  }
}

async function listPartitions(client: PoolClient, table: PartitionedArchive): Promise<Partition[]> {
  // pg_get_expr renders the bounds as SQL literals in the session's TimeZone (UTC here);
  // PostgreSQL parses them back, so no timestamp text is parsed in JavaScript.
  const { rows } = await client.query<{ name: string; from_bound: Date | null; to_bound: Date | null }>(
    `SELECT name,
            CASE WHEN bound[1] = 'MINVALUE' THEN NULL ELSE btrim(bound[1], '''')::timestamptz END AS from_bound,
            CASE WHEN bound[2] = 'MAXVALUE' THEN NULL ELSE btrim(bound[2], '''')::timestamptz END AS to_bound
     FROM (SELECT c.relname AS name,
                  regexp_match(pg_get_expr(c.relpartbound, c.oid), '^FOR VALUES FROM \\((.*)\\) TO \\((.*)\\)$') AS bound
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = $1::regclass) p
     WHERE bound IS NOT NULL
     ORDER BY from_bound NULLS FIRST`,
    [table],
  );
  return rows.map((row) => ({ name: row.name, from: row.from_bound, to: row.to_bound }));
}

/** Today to `aheadDays` ahead, and every day with rows in the default partition, minus the days covered. */
async function daysToCreate(
  client: PoolClient,
  table: PartitionedArchive,
  partitions: readonly Partition[],
  now: Date,
  aheadDays: number,
): Promise<Date[]> {
  const today = startOfUtcDay(now);
  const wanted = new Map<number, Date>();
  for (let i = 0; i <= aheadDays; i += 1) {
    const day = new Date(today.getTime() + i * DAY_MS);
    wanted.set(day.getTime(), day);
  }
  const { rows } = await client.query<{ day: Date }>(
    `SELECT DISTINCT date_trunc('day', msg_time) AS day FROM ${client.escapeIdentifier(`${table}_default`)}`,
  );
  // A day further ahead than that is a clock far off: its rows stay in the default partition
  // (counted in the report) rather than getting a partition of their own.
  const last = today.getTime() + aheadDays * DAY_MS;
  for (const { day } of rows) {
    if (day.getTime() <= last) {
      wanted.set(day.getTime(), day);
    }
  }
  const covered = (day: Date) =>
    partitions.some(
      (p) => (p.from === null || p.from <= day) && (p.to === null || p.to.getTime() >= day.getTime() + DAY_MS),
    );
  return [...wanted.values()].filter((day) => !covered(day)).sort((a, b) => a.getTime() - b.getTime());
}

/**
 * Creates the partition of one day. Its rows in the default partition (if any) move in the same
 * transaction: PostgreSQL refuses a new partition whose rows still sit in the default one, and no
 * row is ever in neither or both. Inserts into the whole table wait meanwhile (milliseconds when
 * the default partition is near empty, as it is between passes; at most the lock timeout): an
 * insert routed by the partitions it saw before the attach could otherwise land beside a moved
 * copy of its row (a CI run under load once stored a repeat twice that way).
 */
async function createDayPartition(
  client: PoolClient,
  table: PartitionedArchive,
  day: Date,
  dryRun: boolean,
): Promise<PartitionCreation> {
  const partition = `${table}_p${dayName(day)}`;
  const from = day.toISOString();
  const to = new Date(day.getTime() + DAY_MS).toISOString();
  const parent = client.escapeIdentifier(table);
  const name = client.escapeIdentifier(partition);
  const fallback = client.escapeIdentifier(`${table}_default`);
  const inRange = `msg_time >= ${client.escapeLiteral(from)} AND msg_time < ${client.escapeLiteral(to)}`;
  if (dryRun) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${fallback} WHERE ${inRange}`);
    return { table, partition, day: from.slice(0, 10), from: day, movedRows: Number(rows[0]?.n ?? 0) };
  }
  await client.query('BEGIN');
  try {
    // Taken first: no insert runs while rows move and the partitions change, and every insert
    // after the commit routes by the new partitions.
    await client.query(`LOCK TABLE ${parent} IN SHARE ROW EXCLUSIVE MODE`);
    await client.query(`CREATE TABLE ${name} (LIKE ${parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    // The same bound as a CHECK lets the attach skip its scan of the new table.
    await client.query(
      `ALTER TABLE ${name} ADD CONSTRAINT ${client.escapeIdentifier(`${partition}_day`)} CHECK (${inRange})`,
    );
    const moved = await client.query(
      `WITH moved AS (DELETE FROM ${fallback} WHERE ${inRange} RETURNING *) INSERT INTO ${name} SELECT * FROM moved`,
    );
    await client.query(
      `ALTER TABLE ${parent} ATTACH PARTITION ${name} FOR VALUES FROM (${client.escapeLiteral(from)}) TO (${client.escapeLiteral(to)})`,
    );
    await client.query(`ALTER TABLE ${name} DROP CONSTRAINT ${client.escapeIdentifier(`${partition}_day`)}`);
    await client.query('COMMIT');
    return { table, partition, day: from.slice(0, 10), from: day, movedRows: moved.rowCount ?? 0 };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function describeTable(
  client: PoolClient,
  table: PartitionedArchive,
): Promise<MaintenanceReport['tables'][number]> {
  const partitions = await listPartitions(client, table);
  const { rows } = await client.query<{ n: string; oldest: Date | null }>(
    `SELECT count(*) AS n, min(msg_time) AS oldest FROM ${client.escapeIdentifier(`${table}_default`)}`,
  );
  // The oldest day kept: the first day partition's start, or an older row waiting in the default
  // partition. The table from before partitioning (no lower bound) is not looked into: finding its
  // oldest row would read all of it, every pass.
  const starts = [partitions.find((p) => p.from !== null)?.from ?? null, rows[0]?.oldest ?? null].filter(
    (d): d is Date => d !== null,
  );
  return {
    table,
    partitions: partitions.length,
    defaultRows: Number(rows[0]?.n ?? 0),
    oldest: starts.length === 0 ? null : new Date(Math.min(...starts.map((d) => d.getTime()))),
  };
}
