import { test } from '@imsync/testing/vitest';
import type pg from 'pg';
import { describe, expect } from 'vitest';
import { createPool, maintainArchive, migrate, PostgresArchive } from '../src/index.js';
import { eventOf } from './support.js';

// The message archives partitioned by day: a repeat is caught whichever partition its first copy
// sits in, rows move out of the default partition without a gap, retention drops whole days.

const DAY_S = 86_400;
// 2026-01-05 00:00:00 UTC: a day boundary.
const MIDNIGHT = 1767571200;
const at = (unixSeconds: number) => new Date(unixSeconds * 1000);

const partitionTest = test.extend('archive', async ({ databaseUrl }, { onCleanup }) => {
  const pool = createPool({ connectionString: databaseUrl, onIdleError: () => {} });
  const archive = new PostgresArchive({ pool });
  onCleanup(async () => {
    await archive.close();
    await pool.end();
  });
  await migrate(pool);
  /** A group message with this seq, sent at this time (Unix seconds), received `receivedAt`. */
  const groupMessage = (seq: number, msgTime: number, receivedAt = at(msgTime)) => {
    const { kind, event } = eventOf('text-public', { MsgSeq: seq, Random: seq * 7, MsgTime: msgTime }, receivedAt);
    return archive.store(kind, event);
  };
  const c2cMessage = (key: string, msgTime: number) => {
    const { kind, event } = eventOf('C2C.CallbackAfterSendMsg/text-cn', { MsgKey: key, MsgTime: msgTime });
    return archive.store(kind, event);
  };
  return { pool, archive, groupMessage, c2cMessage };
});

/** Where each group message is, by seq: the partition holding it (a repeat stored twice shows twice). */
const groupRows = async (pool: pg.Pool) =>
  (
    await pool.query<{ seq: number; partition: string }>(
      'SELECT msg_seq::int AS seq, tableoid::regclass::text AS partition FROM group_messages ORDER BY msg_seq, partition',
    )
  ).rows;

describe('partitioned archive', () => {
  partitionTest(
    'a repeat is stored once when the first copy moved from the default partition to its day in between',
    async ({ archive: { pool, groupMessage, c2cMessage } }) => {
      // No maintenance has run: every day's messages wait in the default partition.
      expect(await groupMessage(1, MIDNIGHT + 100)).toBe('stored');
      expect(await c2cMessage('k1', MIDNIGHT + 100)).toBe('stored');
      expect(await groupRows(pool)).toEqual([{ seq: 1, partition: 'group_messages_default' }]);

      const report = await maintainArchive(pool, { aheadDays: 1, now: at(MIDNIGHT + 3600) });
      expect(report.created).toContainEqual({
        table: 'group_messages',
        partition: 'group_messages_p20260105',
        day: '2026-01-05',
        from: at(MIDNIGHT),
        movedRows: 1,
      });
      expect(report.created).toContainEqual(
        expect.objectContaining({ partition: 'c2c_messages_p20260105', movedRows: 1 }),
      );
      expect(report.tables).toContainEqual({
        table: 'group_messages',
        partitions: 2,
        defaultRows: 0,
        oldest: at(MIDNIGHT),
      });

      expect(await groupMessage(1, MIDNIGHT + 100)).toBe('duplicate');
      expect(await c2cMessage('k1', MIDNIGHT + 100)).toBe('duplicate');
      expect(await groupRows(pool)).toEqual([{ seq: 1, partition: 'group_messages_p20260105' }]);
      const c2c = await pool.query('SELECT tableoid::regclass::text AS partition FROM c2c_messages');
      expect(c2c.rows).toEqual([{ partition: 'c2c_messages_p20260105' }]);
    },
  );

  partitionTest(
    'a message sent just before midnight and repeated after it stays one row, in the day it was sent',
    async ({ archive: { pool, groupMessage } }) => {
      await maintainArchive(pool, { aheadDays: 2, now: at(MIDNIGHT - DAY_S) });
      expect(await groupMessage(10, MIDNIGHT - 1, at(MIDNIGHT - 1))).toBe('stored');
      // The repeat is received the next day: the row's day is the message's, not the receipt's.
      expect(await groupMessage(10, MIDNIGHT - 1, at(MIDNIGHT + 5))).toBe('duplicate');
      expect(await groupMessage(11, MIDNIGHT, at(MIDNIGHT))).toBe('stored');
      expect(await groupRows(pool)).toEqual([
        { seq: 10, partition: 'group_messages_p20260104' },
        { seq: 11, partition: 'group_messages_p20260105' },
      ]);
    },
  );

  partitionTest(
    'retention drops whole days past the horizon; a dry run reports the same and changes nothing',
    async ({ archive: { pool, groupMessage } }) => {
      const today = MIDNIGHT + 10 * DAY_S;
      await maintainArchive(pool, { aheadDays: 0, now: at(MIDNIGHT) });
      for (let day = 0; day <= 10; day += 1) {
        expect(await groupMessage(100 + day, MIDNIGHT + day * DAY_S + 60)).toBe('stored');
      }
      const options = { aheadDays: 0, retentionDays: 3, now: at(today + 3600) };

      const dry = await maintainArchive(pool, { ...options, dryRun: true });
      // Days 0 to 6 end on or before the horizon (today minus 3 days); 7 to 10 are kept.
      expect(dry.dropped.map((d) => d.partition).filter((p) => p.startsWith('group_'))).toEqual(
        ['05', '06', '07', '08', '09', '10', '11'].map((day) => `group_messages_p202601${day}`),
      );
      expect(dry.created.filter((c) => c.table === 'group_messages').map((c) => [c.day, c.movedRows])).toEqual(
        [
          '2026-01-06',
          '2026-01-07',
          '2026-01-08',
          '2026-01-09',
          '2026-01-10',
          '2026-01-11',
          '2026-01-12',
          '2026-01-13',
          '2026-01-14',
          '2026-01-15',
        ].map((day) => [day, 1]),
      );
      expect((await groupRows(pool)).length).toBe(11);

      const real = await maintainArchive(pool, options);
      expect(real.dryRun).toBe(false);
      expect(real.dropped.map((d) => d.partition)).toEqual(dry.dropped.map((d) => d.partition));
      expect((await groupRows(pool)).map((row) => row.seq)).toEqual([107, 108, 109, 110]);
      const kept = real.tables.find((t) => t.table === 'group_messages');
      expect(kept).toEqual({
        table: 'group_messages',
        partitions: 4,
        defaultRows: 0,
        oldest: at(MIDNIGHT + 7 * DAY_S),
      });

      // A second pass finds nothing left to do.
      const again = await maintainArchive(pool, options);
      expect([again.created, again.dropped]).toEqual([[], []]);
    },
  );

  partitionTest(
    'two passes at once: one runs, the other finds the lock held and does nothing',
    async ({ archive: { pool } }) => {
      const [a, b] = await Promise.all([
        maintainArchive(pool, { aheadDays: 3, now: at(MIDNIGHT) }),
        maintainArchive(pool, { aheadDays: 3, now: at(MIDNIGHT) }),
      ]);
      expect([a?.ran, b?.ran].sort()).toEqual([false, true]);
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'group_messages'::regclass`,
      );
      expect(rows[0].n).toBe(5); // four days and the default partition
    },
  );
});

describe('migration 5 on an archive from before partitioning', () => {
  test('keeps every row as it is, catches their repeats, continues their ids, and retention drops it whole', async ({
    databaseUrl,
  }) => {
    const pool = createPool({ connectionString: databaseUrl, onIdleError: () => {} });
    try {
      await migrate(pool, { upTo: 4 });
      const archive = new PostgresArchive({ pool });
      const store = (seq: number, msgTime: number) => {
        const { kind, event } = eventOf('text-public', { MsgSeq: seq, Random: 1, MsgTime: msgTime });
        return archive.store(kind, event);
      };
      const old = MIDNIGHT - 2 * DAY_S;
      expect(await store(1, old)).toBe('stored');
      expect(await store(2, old + 10)).toBe('stored');
      const before = await pool.query<{ id: string }>('SELECT id::text FROM group_messages ORDER BY id');

      expect(await migrate(pool)).toEqual([5]);
      expect(await groupRows(pool)).toEqual([
        { seq: 1, partition: 'group_messages_unpartitioned' },
        { seq: 2, partition: 'group_messages_unpartitioned' },
      ]);
      const archive5 = new PostgresArchive({ pool });
      const store5 = (seq: number, msgTime: number) => {
        const { kind, event } = eventOf('text-public', { MsgSeq: seq, Random: 1, MsgTime: msgTime });
        return archive5.store(kind, event);
      };
      expect(await store5(1, old)).toBe('duplicate');
      expect(await store5(3, Math.floor(Date.now() / 1000))).toBe('stored');
      const ids = await pool.query<{ id: string }>('SELECT id::text FROM group_messages ORDER BY id');
      expect(ids.rows.slice(0, 2)).toEqual(before.rows);
      expect(Number(ids.rows[2]?.id)).toBeGreaterThan(Number(before.rows[1]?.id));

      // The old table covers everything up to the day after the migration; far enough ahead, it goes.
      const later = new Date(Date.now() + 10 * DAY_S * 1000);
      const report = await maintainArchive(pool, { aheadDays: 0, retentionDays: 3, now: later });
      expect(report.dropped.map((d) => d.partition)).toContain('group_messages_unpartitioned');
      await archive.close();
      await archive5.close();
    } finally {
      await pool.end();
    }
  });
});

describe('partition maintenance under load', () => {
  partitionTest(
    'writers storing every day, repeats included, lose and duplicate nothing while days are created, moved and dropped',
    async ({ archive: { pool, archive } }) => {
      const days = 6;
      const messages = Array.from({ length: 3000 }, (_, i) => ({ seq: i + 1, day: i % days }));
      // Every message twice, in an order that puts repeats both near and far from their first copy.
      const sends = [...messages, ...messages.filter((_, i) => i % 2 === 0), ...messages.filter((_, i) => i % 2 === 1)];
      const refused: unknown[] = [];
      const retried = new Map<string, number>();
      const store = async ({ seq, day }: { seq: number; day: number }) => {
        const { kind, event } = eventOf('text-public', {
          MsgSeq: seq,
          Random: 1,
          MsgTime: MIDNIGHT + day * DAY_S + seq,
        });
        // As a job is: tried again after an error worth retrying, given up on a permanent one.
        for (;;) {
          try {
            return await archive.store(kind, event);
          } catch (error) {
            if ((error as Error).name === 'PermanentSinkError') {
              refused.push(error);
              return 'refused';
            }
            const code = String((error as { cause?: { code?: string }; code?: string }).code);
            retried.set(code, (retried.get(code) ?? 0) + 1);
          }
        }
      };
      let next = 0;
      const writer = async () => {
        while (next < sends.length) {
          const send = sends[next] as (typeof sends)[number];
          next += 1;
          await store(send);
        }
      };
      const writing = Promise.all(Array.from({ length: 20 }, writer));
      let done = false;
      void writing.finally(() => {
        done = true;
      });
      // Day after day, back to back while the writers run: today's partition created (its rows
      // moved out of the default partition), days past three dropped.
      let passes = 0;
      while (!done || passes < days) {
        const today = Math.min(passes, days - 1);
        await maintainArchive(pool, { aheadDays: 0, retentionDays: 3, now: at(MIDNIGHT + today * DAY_S + 60) });
        passes += 1;
      }
      await writing;
      const final = await maintainArchive(pool, {
        aheadDays: 0,
        retentionDays: 3,
        now: at(MIDNIGHT + (days - 1) * DAY_S),
      });

      expect(refused).toEqual([]);
      // Kept: the days from the horizon (today minus 3) on, every message exactly once.
      const expected = messages.filter((m) => m.day >= days - 4).map((m) => m.seq);
      const rows = await groupRows(pool);
      expect(rows.map((row) => row.seq)).toEqual(expected);
      expect(final.tables).toContainEqual(
        expect.objectContaining({ table: 'group_messages', partitions: 4, defaultRows: 0 }),
      );
      expect(passes).toBeGreaterThanOrEqual(days);
      console.info(`${passes} maintenance passes during ${sends.length} stores; retried, by SQLSTATE:`, retried);
    },
  );
});
