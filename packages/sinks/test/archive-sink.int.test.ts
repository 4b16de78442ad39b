import { type Fixture, loadFixtures } from '@imsync/fixtures';
import { type GroupMessage, GroupMessageSchema, messageIdentity, messageKey } from '@imsync/protocol';
import { test } from '@imsync/testing/vitest';
import type pg from 'pg';
import * as v from 'valibot';
import { describe, expect } from 'vitest';
import { type ArchivedEvent, createPool, migrate, PermanentSinkError, PostgresArchive } from '../src/index.js';

const SDK_APP_ID = '1600012345';

function archived(text: string, overrides: Record<string, unknown> = {}): ArchivedEvent<GroupMessage> {
  const message = v.parse(GroupMessageSchema, { ...JSON.parse(text), ...overrides });
  return {
    key: messageKey(messageIdentity(SDK_APP_ID, message)),
    sdkAppId: SDK_APP_ID,
    command: 'Group.CallbackAfterSendMsg',
    message,
    body: text,
    receivedAt: new Date(1767583321500),
  };
}

const fromFixture = (fixture: Fixture) => archived(fixture.text);

// Each test gets a migrated database of its own and an archive sink on it.
const sinkTest = test.extend('archive', async ({ databaseUrl }, { onCleanup }) => {
  const pool = createPool({ connectionString: databaseUrl, onIdleError: () => {} });
  onCleanup(() => pool.end());
  await migrate(pool);
  const archive = new PostgresArchive({ pool });
  // The group-message writer under test, as the worker calls it.
  return { pool, sink: { store: (event: ArchivedEvent) => archive.store('group-message', event) } };
});

describe('migrate', () => {
  sinkTest('is idempotent and safe when many processes run it at once', async ({ databaseUrl: url }) => {
    const pools = Array.from({ length: 5 }, () => createPool({ connectionString: url, max: 1, onIdleError: () => {} }));
    const applied = await Promise.all(pools.map((p) => migrate(p)));
    // Exactly one process applied the migrations; the others waited on the lock and found them done.
    expect(applied.flat()).toEqual([1, 2, 3, 4, 5]);
    expect(await migrate(pools[0] as pg.Pool)).toEqual([]);
    const { rows } = await (pools[0] as pg.Pool).query('SELECT version FROM imsync_migrations');
    expect(rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }]);
    await Promise.all(pools.map((p) => p.end()));
  });
});

describe('PostgresArchiveSink', () => {
  sinkTest(
    'stores every fixture once, with the body byte for byte and the identity columns',
    async ({ archive: { pool, sink } }) => {
      const fixtures = loadFixtures();
      const outcomes = await Promise.all(fixtures.map((f) => sink.store(fromFixture(f))));
      expect(outcomes.every((o) => o === 'stored')).toBe(true);

      const { rows } = await pool.query(
        'SELECT group_id, topic_id, msg_seq::text, random::text, payload::text AS payload, sdk_app_id::text FROM group_messages',
      );
      expect(rows).toHaveLength(fixtures.length);
      for (const fixture of fixtures) {
        const body = fixture.body as { GroupId: string; MsgSeq: number; Random: number; TopicId?: string };
        const row = rows.find((r) => r.group_id === body.GroupId && r.msg_seq === String(body.MsgSeq));
        expect(row, fixture.name).toMatchObject({
          payload: fixture.text,
          topic_id: body.TopicId ?? '',
          random: String(body.Random),
          sdk_app_id: SDK_APP_ID,
        });
      }
    },
  );

  sinkTest('keeps times, accounts and optional fields in their columns', async ({ archive: { pool, sink } }) => {
    const fixture = loadFixtures().find((f) => f.name === 'admin-restapi-send');
    expect(fixture).toBeDefined();
    await sink.store(fromFixture(fixture as Fixture));
    const { rows } = await pool.query(
      `SELECT extract(epoch FROM msg_time)::bigint AS msg_time, from_account, operator_account, group_type, msg_id,
              (extract(epoch FROM received_at) * 1000)::bigint AS received_at FROM group_messages`,
    );
    const body = (fixture as Fixture).body;
    expect(rows[0]).toEqual({
      msg_time: String(body.MsgTime),
      from_account: body.From_Account,
      operator_account: body.Operator_Account,
      group_type: body.Type,
      msg_id: body.MsgId ?? null,
      received_at: '1767583321500',
    });
  });

  sinkTest(
    'a message stored concurrently many times is written once; later calls say duplicate',
    async ({ archive: { pool, sink } }) => {
      const [fixture] = loadFixtures();
      const message = fromFixture(fixture as Fixture);
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => sink.store(message)));
      expect(outcomes.filter((o) => o === 'stored')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(9);
      expect(await sink.store(message)).toBe('duplicate');
      const other = new PostgresArchive({ pool });
      expect(await other.store('group-message', message)).toBe('duplicate');
      expect((await pool.query('SELECT count(*)::int AS n FROM group_messages')).rows[0].n).toBe(1);
    },
  );

  sinkTest(
    'the same GroupId and MsgSeq with another Random or TopicId is another message',
    async ({ archive: { sink } }) => {
      const [fixture] = loadFixtures();
      const text = (fixture as Fixture).text;
      const outcomes = await Promise.all([
        sink.store(archived(text)),
        sink.store(archived(text, { Random: 1 })),
        sink.store(archived(text, { TopicId: 'topic-a' })),
      ]);
      expect(outcomes).toEqual(['stored', 'stored', 'stored']);
    },
  );

  sinkTest(
    'a row PostgreSQL refuses fails alone and for good; the rest of its batch is stored',
    async ({ archive: { pool, sink } }) => {
      // A constraint the schema cannot know about stands in for any data-level refusal.
      await pool.query(`ALTER TABLE group_messages ADD CONSTRAINT no_poison CHECK (from_account <> 'poison')`);
      const fixtures = loadFixtures().slice(0, 3);
      const messages = fixtures.map(fromFixture);
      const poison = archived((fixtures[0] as Fixture).text, { From_Account: 'poison', MsgSeq: 999_999 });
      const results = await Promise.allSettled([...messages, poison].map((m) => sink.store(m)));
      expect(results.slice(0, 3).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      const failed = results[3];
      expect(failed?.status).toBe('rejected');
      expect((failed as PromiseRejectedResult).reason).toBeInstanceOf(PermanentSinkError);
      expect((await pool.query('SELECT count(*)::int AS n FROM group_messages')).rows[0].n).toBe(3);
    },
  );

  sinkTest(
    'while PostgreSQL is down stores fail as retryable errors, and work again once it is back',
    async ({ archive: { sink }, postgres }) => {
      const [fixture] = loadFixtures();
      await postgres.stop('graceful');
      try {
        const error = await sink.store(fromFixture(fixture as Fixture)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
        expect(error).not.toBeInstanceOf(PermanentSinkError);
      } finally {
        await postgres.start();
      }
      expect(await sink.store(fromFixture(fixture as Fixture))).toBe('stored');
    },
  );
});
