import { CALLBACK_CATALOG } from '@imsync/protocol';
import { test } from '@imsync/testing/vitest';
import type pg from 'pg';
import { describe, expect } from 'vitest';
import { createPool, migrate, PostgresArchive } from '../src/index.js';
import { eventOf, FIXTURES } from './support.js';

// Every kind of event into the real archive: recalls that arrive before or after their message,
// C2C messages and their withdrawals, group events, each stored once in effect.

const archiveTest = test.extend('archive', async ({ databaseUrl }, { onCleanup }) => {
  const pool = createPool({ connectionString: databaseUrl, onIdleError: () => {} });
  onCleanup(() => pool.end());
  await migrate(pool);
  const archive = new PostgresArchive({ pool });
  const store = (name: string, fields: Record<string, unknown> = {}) => {
    const { kind, event } = eventOf(name, fields);
    return archive.store(kind, event);
  };
  return { pool, archive, store };
});

const recalledSeqs = async (pool: pg.Pool) =>
  (
    await pool.query<{ msg_seq: string; topic_id: string; recalled_by: string | null }>(
      'SELECT msg_seq::text, topic_id, recalled_by FROM group_messages WHERE recalled_at IS NOT NULL ORDER BY msg_seq',
    )
  ).rows;

describe('group recalls', () => {
  archiveTest(
    'mark archived messages, keep when and by whom, and are idempotent',
    async ({ archive: { pool, store } }) => {
      expect(await store('text-public')).toBe('stored');
      expect(await store('text-public', { MsgSeq: 1843 })).toBe('stored');
      expect(await store('text-public', { MsgSeq: 1844 })).toBe('stored');
      expect(await store('Group.CallbackAfterRecallMsg/several-intl')).toBe('stored');
      expect(await store('Group.CallbackAfterRecallMsg/several-intl')).toBe('duplicate');
      expect(await recalledSeqs(pool)).toEqual([
        { msg_seq: '1842', topic_id: '', recalled_by: 'lin.wei' },
        { msg_seq: '1843', topic_id: '', recalled_by: 'lin.wei' },
      ]);
      const { rows } = await pool.query(
        `SELECT (extract(epoch FROM recalled_at) * 1000)::bigint::text AS at, recall_payload::text AS payload
       FROM group_messages WHERE msg_seq = 1842`,
      );
      // EventTime (a digit string in this intl sample) is when it was recalled.
      expect(rows[0]).toEqual({ at: '1767583399001', payload: expect.stringContaining('"MsgSeqList"') });
    },
  );

  archiveTest(
    'a recall that arrives first is kept and applied when its message lands',
    async ({ archive: { pool, store } }) => {
      expect(await store('Group.CallbackAfterRecallMsg/topic-cn')).toBe('stored');
      expect(await recalledSeqs(pool)).toEqual([]);
      expect(await store('image-community-topic')).toBe('stored');
      expect(await recalledSeqs(pool)).toEqual([
        { msg_seq: '311', topic_id: '@TGS#_@TGS#cR5YJ2WMB62Q@TOPIC#_release-notes', recalled_by: 'admin' },
      ]);
    },
  );

  archiveTest(
    'topics are respected: the same MsgSeq elsewhere in the group is not recalled',
    async ({ archive: { pool, store } }) => {
      await store('image-community-topic');
      await store('image-community-topic', { TopicId: '@TGS#_@TGS#cR5YJ2WMB62Q@TOPIC#_other' });
      await store('image-community-topic', { TopicId: undefined });
      await store('Group.CallbackAfterRecallMsg/topic-cn');
      expect((await recalledSeqs(pool)).map((row) => row.topic_id)).toEqual([
        '@TGS#_@TGS#cR5YJ2WMB62Q@TOPIC#_release-notes',
      ]);
    },
  );

  archiveTest(
    'a message and its recall stored at the same moment always end up recalled',
    async ({ archive: { pool }, databaseUrl }) => {
      // Two archives on their own pools, as two workers would be: neither sees the other's commit first.
      const other = createPool({ connectionString: databaseUrl, onIdleError: () => {} });
      try {
        const left = new PostgresArchive({ pool });
        const right = new PostgresArchive({ pool: other });
        for (let seq = 1; seq <= 60; seq++) {
          const message = eventOf('text-public', { MsgSeq: seq });
          const recall = eventOf('Group.CallbackAfterRecallMsg/several-intl', { MsgSeqList: [{ MsgSeq: seq }] });
          const pair = [left.store('group-message', message.event), right.store('group-recall', recall.event)];
          await Promise.all(seq % 2 === 0 ? pair : pair.reverse());
        }
        const { rows } = await pool.query('SELECT count(*)::int AS n FROM group_messages WHERE recalled_at IS NULL');
        expect(rows[0].n).toBe(0);
      } finally {
        await other.end();
      }
    },
  );
});

describe('C2C messages', () => {
  archiveTest('are stored once each, a failed send with its result', async ({ archive: { pool, store } }) => {
    expect(await store('C2C.CallbackAfterSendMsg/text-cn')).toBe('stored');
    expect(await store('C2C.CallbackAfterSendMsg/text-cn', { EventTime: 1 })).toBe('duplicate');
    expect(await store('C2C.CallbackAfterSendMsg/failed-send-intl')).toBe('stored');
    expect(await store('C2C.CallbackAfterSendMsg/text-cn', { To_Account: 'someone-else' })).toBe('stored');
    const { rows } = await pool.query(
      `SELECT from_account, to_account, msg_key, send_result::text, msg_id FROM c2c_messages ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        from_account: 'jared',
        to_account: 'Jonh',
        msg_key: '48374_2837546_1767581126',
        send_result: '0',
        msg_id: '144115233406643804-1767581126-4026038328',
      },
      {
        from_account: 'mallory',
        to_account: 'lin.wei',
        msg_key: '90211_4294967295_1767581200',
        send_result: '80001',
        msg_id: null,
      },
      {
        from_account: 'jared',
        to_account: 'someone-else',
        msg_key: '48374_2837546_1767581126',
        send_result: '0',
        msg_id: '144115233406643804-1767581126-4026038328',
      },
    ]);
  });

  archiveTest(
    'a withdrawal marks its message, whether it arrives after or before it',
    async ({ archive: { pool, store } }) => {
      await store('C2C.CallbackAfterSendMsg/text-cn');
      expect(await store('C2C.CallbackAfterMsgWithDraw/cn')).toBe('stored');
      expect(await store('C2C.CallbackAfterMsgWithDraw/cn')).toBe('duplicate');
      expect(await store('C2C.CallbackAfterMsgWithDraw/intl')).toBe('stored');
      expect(await store('C2C.CallbackAfterSendMsg/image-online-only')).toBe('stored');
      const { rows } = await pool.query(
        `SELECT msg_key, recalled_at IS NOT NULL AS recalled FROM c2c_messages ORDER BY msg_key`,
      );
      expect(rows).toEqual([
        { msg_key: '48374_2837546_1767581126', recalled: true },
        { msg_key: '7_12_1767581300', recalled: true },
      ]);
    },
  );
});

describe('group events', () => {
  archiveTest(
    'each event is stored once, by its key, with its group, time and body',
    async ({ archive: { pool, store } }) => {
      const names = FIXTURES.filter((f) => CALLBACK_CATALOG[f.command]?.job === 'group-event').map((f) => f.name);
      expect(names).toHaveLength(5);
      for (const name of names) {
        expect(await store(name)).toBe('stored');
        expect(await store(name)).toBe('duplicate');
      }
      // Members in another order are the same event; another member is another event.
      expect(
        await store('Group.CallbackAfterNewMemberJoin/invited', {
          NewMemberList: [{ Member_Account: 'tommy' }, { Member_Account: 'jared' }],
        }),
      ).toBe('duplicate');
      expect(
        await store('Group.CallbackAfterNewMemberJoin/invited', { NewMemberList: [{ Member_Account: 'ana' }] }),
      ).toBe('stored');
      const { rows } = await pool.query(
        `SELECT command, group_id, (extract(epoch FROM event_time) * 1000)::bigint::text AS event_time
       FROM group_events WHERE command = 'Group.CallbackAfterGroupInfoChanged'`,
      );
      expect(rows).toEqual([
        { command: 'Group.CallbackAfterGroupInfoChanged', group_id: '@TGS#2J4SZEAEL', event_time: '1767580500777' },
      ]);
      expect((await pool.query('SELECT count(*)::int AS n FROM group_events')).rows[0].n).toBe(6);
    },
  );
});
