import type { Pool } from 'pg';

interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

// Append only: a migration that has run somewhere is never edited, a new one is added instead.
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'group_messages',
    sql: `
      CREATE TABLE group_messages (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        sdk_app_id       bigint      NOT NULL,
        group_id         text        NOT NULL,
        topic_id         text        NOT NULL DEFAULT '',
        msg_seq          bigint      NOT NULL CHECK (msg_seq BETWEEN 0 AND 4294967295),
        random           bigint      NOT NULL CHECK (random BETWEEN 0 AND 4294967295),
        msg_id           text,
        msg_time         timestamptz NOT NULL,
        event_time       timestamptz,
        from_account     text        NOT NULL,
        operator_account text,
        group_type       text        NOT NULL,
        -- json, not jsonb: json keeps the body text exactly as received (key order, number
        -- spelling, \\u0000 escapes that jsonb and text values reject).
        payload          json        NOT NULL,
        received_at      timestamptz NOT NULL,
        stored_at        timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT group_messages_identity UNIQUE (sdk_app_id, group_id, topic_id, msg_seq, random)
      );
      CREATE INDEX group_messages_msg_time ON group_messages (sdk_app_id, group_id, msg_time);
    `,
  },
  {
    version: 2,
    name: 'recalls, c2c messages, group events',
    sql: `
      -- A recalled message keeps its row: when and by whom it was recalled, and the recall's body.
      ALTER TABLE group_messages
        ADD COLUMN recalled_at    timestamptz,
        ADD COLUMN recalled_by    text,
        ADD COLUMN recall_payload json;

      -- Every recall, kept whether or not its message has arrived yet (queues are not ordered):
      -- a message that lands later is marked from here.
      CREATE TABLE group_recalls (
        sdk_app_id  bigint      NOT NULL,
        group_id    text        NOT NULL,
        topic_id    text        NOT NULL DEFAULT '',
        msg_seq     bigint      NOT NULL CHECK (msg_seq BETWEEN 0 AND 4294967295),
        recalled_at timestamptz NOT NULL,
        recalled_by text,
        payload     json        NOT NULL,
        received_at timestamptz NOT NULL,
        stored_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (sdk_app_id, group_id, topic_id, msg_seq)
      );

      CREATE TABLE c2c_messages (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        sdk_app_id     bigint      NOT NULL,
        from_account   text        NOT NULL,
        to_account     text        NOT NULL,
        msg_key        text        NOT NULL,
        msg_seq        bigint      NOT NULL CHECK (msg_seq BETWEEN 0 AND 4294967295),
        msg_random     bigint      NOT NULL CHECK (msg_random BETWEEN 0 AND 4294967295),
        msg_time       timestamptz NOT NULL,
        msg_id         text,
        -- 0: delivered; anything else: Tencent's error code for a send that failed; NULL: not said.
        send_result    bigint,
        event_time     timestamptz,
        payload        json        NOT NULL,
        received_at    timestamptz NOT NULL,
        stored_at      timestamptz NOT NULL DEFAULT now(),
        recalled_at    timestamptz,
        recall_payload json,
        CONSTRAINT c2c_messages_identity UNIQUE (sdk_app_id, from_account, to_account, msg_key)
      );
      CREATE INDEX c2c_messages_msg_time ON c2c_messages (sdk_app_id, from_account, to_account, msg_time);

      CREATE TABLE c2c_recalls (
        sdk_app_id   bigint      NOT NULL,
        from_account text        NOT NULL,
        to_account   text        NOT NULL,
        msg_key      text        NOT NULL,
        recalled_at  timestamptz NOT NULL,
        payload      json        NOT NULL,
        received_at  timestamptz NOT NULL,
        stored_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (sdk_app_id, from_account, to_account, msg_key)
      );

      -- Group lifecycle and membership. No event id exists: event_key is the catalog's canonical
      -- key (command, group, time and content), so an exact redelivery is stored once.
      CREATE TABLE group_events (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        sdk_app_id       bigint      NOT NULL,
        event_key        text        NOT NULL UNIQUE,
        command          text        NOT NULL,
        group_id         text        NOT NULL,
        group_type       text,
        operator_account text,
        event_time       timestamptz,
        payload          json        NOT NULL,
        received_at      timestamptz NOT NULL,
        stored_at        timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX group_events_group ON group_events (sdk_app_id, group_id, event_time);
    `,
  },
  {
    version: 3,
    name: 'sequence gaps and backfill',
    sql: `
      -- Where a message came from: its callback, or Tencent's group history (a backfill).
      ALTER TABLE group_messages
        ADD COLUMN source text NOT NULL DEFAULT 'callback' CHECK (source IN ('callback', 'backfill'));

      -- Sequence numbers that have no message row and never will: tips and system messages
      -- (they consume a seq but never arrive as a callback), recalled or expired placeholders
      -- Tencent answers instead of the message, and what it no longer has at all.
      CREATE TABLE sequence_accounts (
        sdk_app_id  bigint      NOT NULL,
        group_id    text        NOT NULL,
        topic_id    text        NOT NULL DEFAULT '',
        msg_seq     bigint      NOT NULL CHECK (msg_seq BETWEEN 0 AND 4294967295),
        kind        text        NOT NULL CHECK (kind IN ('system', 'recalled', 'expired', 'unrecoverable')),
        detail      text,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (sdk_app_id, group_id, topic_id, msg_seq)
      );

      -- Per sequence (a group, or a topic of a Community): every seq up to contiguous_seq is
      -- accounted for (a message or an account). Seqs before the first one imsync saw are not its
      -- concern: a new sequence starts just below its first message.
      CREATE TABLE sequence_marks (
        sdk_app_id      bigint      NOT NULL,
        group_id        text        NOT NULL,
        topic_id        text        NOT NULL DEFAULT '',
        group_type      text,
        contiguous_seq  bigint      NOT NULL,
        last_message_at timestamptz NOT NULL,
        tail_checked_at timestamptz,
        -- Set when Tencent says the group is gone: no more scans or backfill.
        closed_reason   text,
        PRIMARY KEY (sdk_app_id, group_id, topic_id)
      );

      -- The holes found above the marks, for backfill and for the gaps report.
      CREATE TABLE sequence_holes (
        sdk_app_id bigint      NOT NULL,
        group_id   text        NOT NULL,
        topic_id   text        NOT NULL DEFAULT '',
        from_seq   bigint      NOT NULL,
        to_seq     bigint      NOT NULL,
        found_at   timestamptz NOT NULL DEFAULT now(),
        -- open: found, backfill queued; closed: every seq in it accounted for.
        state      text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
        closed_at  timestamptz,
        PRIMARY KEY (sdk_app_id, group_id, topic_id, from_seq)
      );
      CREATE INDEX sequence_holes_open ON sequence_holes (found_at) WHERE state = 'open';
      CREATE INDEX group_messages_received ON group_messages (received_at);
    `,
  },
  {
    version: 4,
    name: 'incremental gap scans',
    sql: `
      -- Each scan reads only the rows stored since the previous one (a few minutes' margin for
      -- transactions that commit late), not a whole day of messages.
      CREATE TABLE gap_scan_state (
        id           boolean     PRIMARY KEY DEFAULT true CHECK (id),
        refreshed_at timestamptz NOT NULL
      );
      CREATE INDEX group_messages_stored ON group_messages (stored_at);
      -- The last_message_at a scan of this sequence saw with nothing left pending: a sequence
      -- with no message since is not scanned again (only its tail is checked).
      ALTER TABLE sequence_marks ADD COLUMN scanned_at timestamptz;
      -- While a mark is younger than the grace period, an earlier message of its sequence arriving
      -- late moves its start down (callbacks arrive out of order); after that, what is below is
      -- from before imsync heard of the sequence.
      ALTER TABLE sequence_marks ADD COLUMN started_at timestamptz NOT NULL DEFAULT now();
    `,
  },
  {
    version: 5,
    name: 'message archives partitioned by day',
    sql: `
      -- The two message archives become partitioned by the message's own time (MsgTime, set by
      -- Tencent's server and carried unchanged by every repeat of the message, callback or
      -- history alike), one partition per UTC day, so retention drops whole days.
      -- A unique key of a partitioned table must contain the partition key, so msg_time joins the
      -- identity: a repeat has the same msg_time, lands in the same partition, and ON CONFLICT
      -- still finds it there. The time a callback was received would not do: a repeat after
      -- midnight would land in the next day's partition and be stored twice.
      -- The table that was there is kept, attached as the partition of everything before the day
      -- after its newest message: its rows are not copied, only its two keys are built again
      -- (with msg_time) while the migration holds the table. An empty one is dropped.
      ALTER TABLE group_messages RENAME TO group_messages_unpartitioned;
      -- Its keys give way to the partitioned table's, built when it is attached.
      ALTER TABLE group_messages_unpartitioned DROP CONSTRAINT group_messages_pkey, DROP CONSTRAINT group_messages_identity;
      ALTER INDEX group_messages_msg_time RENAME TO group_messages_unpartitioned_msg_time;
      ALTER INDEX group_messages_received RENAME TO group_messages_unpartitioned_received;
      ALTER INDEX group_messages_stored RENAME TO group_messages_unpartitioned_stored;

      CREATE TABLE group_messages (
        id               bigint GENERATED ALWAYS AS IDENTITY,
        sdk_app_id       bigint      NOT NULL,
        group_id         text        NOT NULL,
        topic_id         text        NOT NULL DEFAULT '',
        -- Named as the old table's checks: an attached partition must carry the same ones.
        msg_seq          bigint      NOT NULL CONSTRAINT group_messages_msg_seq_check CHECK (msg_seq BETWEEN 0 AND 4294967295),
        random           bigint      NOT NULL CONSTRAINT group_messages_random_check CHECK (random BETWEEN 0 AND 4294967295),
        msg_id           text,
        msg_time         timestamptz NOT NULL,
        event_time       timestamptz,
        from_account     text        NOT NULL,
        operator_account text,
        group_type       text        NOT NULL,
        payload          json        NOT NULL,
        received_at      timestamptz NOT NULL,
        stored_at        timestamptz NOT NULL DEFAULT now(),
        recalled_at      timestamptz,
        recalled_by      text,
        recall_payload   json,
        source           text        NOT NULL DEFAULT 'callback'
                                     CONSTRAINT group_messages_source_check CHECK (source IN ('callback', 'backfill')),
        PRIMARY KEY (id, msg_time),
        CONSTRAINT group_messages_identity UNIQUE (sdk_app_id, group_id, topic_id, msg_seq, random, msg_time)
      ) PARTITION BY RANGE (msg_time);
      -- What people ask of the archive (README, "The archive"): a group's messages in time order
      -- (the identity serves a group's or a topic's messages in seq order), a user's messages,
      -- and the rows stored or received since a time (gap scans, operators).
      CREATE INDEX group_messages_msg_time ON group_messages (sdk_app_id, group_id, msg_time);
      CREATE INDEX group_messages_sender ON group_messages (sdk_app_id, from_account, msg_time);
      -- A time range across all groups: rows arrive about in msg_time order, so a BRIN index (a
      -- few pages per partition) finds the hour inside its day.
      CREATE INDEX group_messages_time ON group_messages USING brin (msg_time);
      CREATE INDEX group_messages_received ON group_messages (received_at);
      CREATE INDEX group_messages_stored ON group_messages (stored_at);

      ALTER TABLE c2c_messages RENAME TO c2c_messages_unpartitioned;
      ALTER TABLE c2c_messages_unpartitioned DROP CONSTRAINT c2c_messages_pkey, DROP CONSTRAINT c2c_messages_identity;
      ALTER INDEX c2c_messages_msg_time RENAME TO c2c_messages_unpartitioned_msg_time;

      CREATE TABLE c2c_messages (
        id             bigint GENERATED ALWAYS AS IDENTITY,
        sdk_app_id     bigint      NOT NULL,
        from_account   text        NOT NULL,
        to_account     text        NOT NULL,
        msg_key        text        NOT NULL,
        msg_seq        bigint      NOT NULL CONSTRAINT c2c_messages_msg_seq_check CHECK (msg_seq BETWEEN 0 AND 4294967295),
        msg_random     bigint      NOT NULL CONSTRAINT c2c_messages_msg_random_check CHECK (msg_random BETWEEN 0 AND 4294967295),
        msg_time       timestamptz NOT NULL,
        msg_id         text,
        send_result    bigint,
        event_time     timestamptz,
        payload        json        NOT NULL,
        received_at    timestamptz NOT NULL,
        stored_at      timestamptz NOT NULL DEFAULT now(),
        recalled_at    timestamptz,
        recall_payload json,
        PRIMARY KEY (id, msg_time),
        CONSTRAINT c2c_messages_identity UNIQUE (sdk_app_id, from_account, to_account, msg_key, msg_time)
      ) PARTITION BY RANGE (msg_time);
      -- A conversation in time order (one direction; both directions are two index scans), and
      -- what a user received.
      CREATE INDEX c2c_messages_msg_time ON c2c_messages (sdk_app_id, from_account, to_account, msg_time);
      CREATE INDEX c2c_messages_recipient ON c2c_messages (sdk_app_id, to_account, msg_time);
      CREATE INDEX c2c_messages_time ON c2c_messages USING brin (msg_time);

      DO $migration$
      DECLARE
        archive text;
        old text;
        newest timestamptz;
        next_id bigint;
      BEGIN
        FOREACH archive IN ARRAY ARRAY['group_messages', 'c2c_messages'] LOOP
          old := archive || '_unpartitioned';
          -- ids go on from the new table's own sequence.
          EXECUTE format('ALTER TABLE %I ALTER COLUMN id DROP IDENTITY', old);
          EXECUTE format('SELECT max(msg_time), max(id) + 1 FROM %I', old) INTO newest, next_id;
          IF newest IS NULL THEN
            EXECUTE format('DROP TABLE %I', old);
          ELSE
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)', archive, old,
                           date_trunc('day', greatest(newest, now()), 'UTC') + interval '1 day');
            EXECUTE format('ALTER TABLE %I ALTER COLUMN id RESTART WITH %s', archive, next_id);
          END IF;
          -- Messages of a day with no partition yet (a backfill of an old day, a clock far off)
          -- wait here until the archive maintenance moves them to their day.
          EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', archive || '_default', archive);
        END LOOP;
      END
      $migration$;
    `,
  },
];

// Any constant works; it only has to be the same in every process that migrates this database.
const MIGRATION_LOCK_KEY = 0x1_5e_c0de;

/** The newest schema version this code knows. */
const LATEST_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/** The schema is older than this code and the connected role may not bring it up to date. */
export class SchemaBehindError extends Error {
  override readonly name = 'SchemaBehindError';
}

/**
 * Brings the schema up to date. Safe to run from many workers at once: the first takes an
 * advisory lock and migrates, the others wait on the lock and then find nothing left to do.
 * A schema already up to date costs one SELECT and no lock, so a role that may only read and
 * write rows (the archive writer) can call it too; on a schema that is behind, that role gets a
 * SchemaBehindError that says to run the migrations as the owner.
 */
export async function migrate(pool: Pool, options: { upTo?: number } = {}): Promise<number[]> {
  // upTo: only as far as this version (tests of a migration, on a schema as it was before it).
  const target = options.upTo ?? LATEST_VERSION;
  if ((await appliedVersion(pool)) >= target) {
    return [];
  }
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS imsync_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM imsync_migrations');
    const done = new Set(rows.map((row) => row.version));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (!done.has(migration.version) && migration.version <= target) {
        await client.query(migration.sql);
        await client.query('INSERT INTO imsync_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        applied.push(migration.version);
      }
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    if ((error as { code?: string }).code === INSUFFICIENT_PRIVILEGE) {
      throw new SchemaBehindError(
        `the archive schema is older than this version (${LATEST_VERSION}) and this database role may not migrate it: run \`pnpm migrate\` (compose: the migrate service) as the database owner first`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    client.release();
  }
}

const INSUFFICIENT_PRIVILEGE = '42501';
const UNDEFINED_TABLE = '42P01';

/** The highest applied version, 0 on an empty database. */
async function appliedVersion(pool: Pool): Promise<number> {
  try {
    const { rows } = await pool.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM imsync_migrations',
    );
    return rows[0]?.version ?? 0;
  } catch (error) {
    if ((error as { code?: string }).code === UNDEFINED_TABLE) {
      return 0;
    }
    throw error;
  }
}
