import { loadFixture } from '@imsync/fixtures';
import { GroupMessageSchema, messageIdentity, messageKey } from '@imsync/protocol';
import { test } from '@imsync/testing/vitest';
import * as v from 'valibot';
import { expect } from 'vitest';
import { createPool, createSequenceStore, migrate, PostgresArchive } from '../src/index.js';

// Gap detection from the archive's own rows: marks, holes, the grace period, accounts.

const SDK_APP_ID = '1600012345';
const BASE = JSON.parse(loadFixture('text-public').text) as Record<string, unknown>;
const KEY = { sdkAppId: SDK_APP_ID, groupId: '@TGS#2QH7MZ4NE', topicId: '' };

const seqTest = test.extend('seq', async ({ databaseUrl }, { onCleanup }) => {
  const pool = createPool({ connectionString: databaseUrl, onIdleError: () => {} });
  onCleanup(() => pool.end());
  await migrate(pool);
  const archive = new PostgresArchive({ pool });
  /** Stores messages with these seqs, received and stored `agoMs` ago. */
  const store = async (seqs: number[], agoMs: number, fields: Record<string, unknown> = {}) => {
    for (const seq of seqs) {
      const body = { ...BASE, ...fields, MsgSeq: seq };
      const message = v.parse(GroupMessageSchema, body);
      await archive.store('group-message', {
        key: messageKey(messageIdentity(SDK_APP_ID, message)),
        sdkAppId: SDK_APP_ID,
        command: 'Group.CallbackAfterSendMsg',
        message,
        body: JSON.stringify(body),
        receivedAt: new Date(Date.now() - agoMs),
      });
    }
    // Time passes for the archive's own clock too: gap detection ages holes by stored_at.
    await pool.query(
      `UPDATE group_messages SET stored_at = now() - make_interval(secs => $1::float8 / 1000)
       WHERE group_id = $2 AND msg_seq = ANY($3::bigint[])`,
      [agoMs, fields.GroupId ?? BASE.GroupId, seqs],
    );
  };
  return { pool, store, sequences: createSequenceStore(pool) };
});

const HOUR = 3_600_000;

seqTest(
  'holes between stored seqs are found once their next message is past the grace period',
  async ({ seq: { store, sequences } }) => {
    await store([101, 102, 103, 105], HOUR);
    await store([108], 1000);
    await sequences.refreshMarks(new Date(Date.now() - 2 * HOUR), 60_000);
    const [mark] = await sequences.activeMarks(new Date(Date.now() - 2 * HOUR));
    // A new sequence starts just below its first message: what came before imsync is not a hole.
    expect(mark).toMatchObject({ ...KEY, contiguousSeq: 100, groupType: 'Public' });
    if (!mark) {
      return;
    }
    // 106–107 is younger than the grace period: it may still fill by itself.
    expect(await sequences.scan(mark, 60_000, new Date())).toEqual({
      holes: [{ fromSeq: 104, toSeq: 104 }],
      highest: 108,
      pending: true,
    });
    // With no grace period both holes count; the mark moved up to the first hole.
    const [moved] = await sequences.activeMarks(new Date(Date.now() - 2 * HOUR));
    expect(moved?.contiguousSeq).toBe(103);
    expect((await sequences.scan(moved ?? mark, 0, new Date())).holes).toEqual([
      { fromSeq: 104, toSeq: 104 },
      { fromSeq: 106, toSeq: 107 },
    ]);
  },
);

seqTest(
  'accounted seqs (a tip, a recalled placeholder) close holes; the mark passes them',
  async ({ seq: { store, sequences } }) => {
    await store([1, 2, 4, 6], HOUR);
    await sequences.account(KEY, [
      { seq: 3, kind: 'system' },
      { seq: 5, kind: 'recalled' },
    ]);
    await sequences.refreshMarks(new Date(Date.now() - 2 * HOUR), 60_000);
    const [mark] = await sequences.activeMarks(new Date(Date.now() - 2 * HOUR));
    expect(await sequences.scan(mark ?? ({} as never), 0, new Date())).toEqual({
      holes: [],
      highest: 6,
      pending: false,
    });
    expect((await sequences.activeMarks(new Date(Date.now() - 2 * HOUR)))[0]?.contiguousSeq).toBe(6);
  },
);

seqTest(
  'holes are recorded once; AVChatRoom and closed groups are not scanned',
  async ({ seq: { store, sequences } }) => {
    expect(await sequences.recordHoles(KEY, [{ fromSeq: 4, toSeq: 5 }])).toEqual([{ fromSeq: 4, toSeq: 5 }]);
    expect(await sequences.recordHoles(KEY, [{ fromSeq: 4, toSeq: 5 }])).toEqual([]);
    expect((await sequences.openHoles()).map((h) => [h.fromSeq, h.toSeq])).toEqual([[4, 5]]);
    await sequences.closeHoles(KEY, { fromSeq: 1, toSeq: 10 });
    expect(await sequences.openHoles()).toEqual([]);

    await store([1, 3], HOUR, { GroupId: 'live-room', Type: 'AVChatRoom' });
    await store([1, 3], HOUR, { GroupId: 'gone-group' });
    await sequences.refreshMarks(new Date(Date.now() - 2 * HOUR), 60_000);
    await sequences.close({ ...KEY, groupId: 'gone-group' }, 'group_gone');
    expect((await sequences.activeMarks(new Date(Date.now() - 2 * HOUR))).map((m) => m.groupId)).toEqual([]);
  },
);

seqTest(
  'each refresh reads only what was stored since the previous one, and still moves the marks forward',
  async ({ seq: { pool, store, sequences } }) => {
    const since = new Date(Date.now() - 2 * HOUR);
    await store([1, 2], HOUR);
    await sequences.refreshMarks(since, 60_000);
    // Rows stored long before the previous refresh are not read again: this one would start a mark.
    await store([1], HOUR, { GroupId: 'old-news' });
    await store([3], 0);
    await sequences.refreshMarks(since, 60_000);
    const marks = await sequences.activeMarks(since);
    expect(marks.map((m) => m.groupId)).toEqual([KEY.groupId]);
    const { rows } = await pool.query<{ at: Date }>(
      'SELECT max(stored_at) AS at FROM group_messages WHERE msg_seq = 3',
    );
    expect(marks[0]?.lastMessageAt).toEqual(rows[0]?.at);
  },
);

seqTest(
  'a scan with nothing pending settles the mark at its last message; a younger hole leaves it to scan again',
  async ({ seq: { store, sequences } }) => {
    const since = new Date(Date.now() - 2 * HOUR);
    await store([1, 2, 5], 0);
    await sequences.refreshMarks(since, 60_000);
    const [young] = await sequences.activeMarks(since);
    expect(await sequences.scan(young ?? ({} as never), 60_000, new Date())).toMatchObject({
      holes: [],
      pending: true,
    });
    expect((await sequences.activeMarks(since))[0]?.scannedAt).toBeNull();

    const [mark] = await sequences.activeMarks(since);
    expect(await sequences.scan(mark ?? ({} as never), 0, new Date())).toMatchObject({
      holes: [{ fromSeq: 3, toSeq: 4 }],
      pending: false,
    });
    const [settled] = await sequences.activeMarks(since);
    expect(settled?.scannedAt).toEqual(settled?.lastMessageAt);
  },
);

seqTest(
  "an earlier message arriving late moves a young mark's start down, so a hole just above it is found",
  async ({ seq: { pool, store, sequences } }) => {
    const since = new Date(Date.now() - 2 * HOUR);
    // 52 first, then (late) 50: 51 never arrives.
    await store([52], 0);
    await sequences.refreshMarks(since, 60_000);
    await store([50], 0);
    await sequences.refreshMarks(since, 60_000);
    const [mark] = await sequences.activeMarks(since);
    expect(mark?.contiguousSeq).toBe(49);
    expect((await sequences.scan(mark ?? ({} as never), 0, new Date())).holes).toEqual([{ fromSeq: 51, toSeq: 51 }]);

    // Past the grace period, a lower message is from before imsync heard of the sequence.
    await pool.query(`UPDATE sequence_marks SET started_at = now() - interval '2 minutes'`);
    await store([40], 0);
    await sequences.refreshMarks(since, 60_000);
    expect((await sequences.activeMarks(since))[0]?.contiguousSeq).toBe(50);
  },
);

seqTest(
  'open holes found a while ago are listed for the scan to queue again, by app',
  async ({ seq: { store, sequences } }) => {
    await store([1, 3], HOUR);
    await sequences.refreshMarks(new Date(Date.now() - 2 * HOUR), 60_000);
    await sequences.recordHoles(KEY, [{ fromSeq: 2, toSeq: 2 }]);
    const later = new Date(Date.now() + 60_000);
    expect(await sequences.openHolesFoundBefore(later, 10, [SDK_APP_ID])).toEqual([
      { ...KEY, groupType: 'Public', fromSeq: 2, toSeq: 2 },
    ]);
    // Not yet old enough, another app's, or closed: not listed.
    expect(await sequences.openHolesFoundBefore(new Date(Date.now() - 60_000), 10, [SDK_APP_ID])).toEqual([]);
    expect(await sequences.openHolesFoundBefore(later, 10, ['1400000001'])).toEqual([]);
    await sequences.closeHoles(KEY, { fromSeq: 2, toSeq: 2 });
    expect(await sequences.openHolesFoundBefore(later, 10, [SDK_APP_ID])).toEqual([]);
  },
);
