import { loadFixtures } from '@imsync/fixtures';
import { decodeJsonBody, type GroupMessage, GroupMessageSchema, messageIdentity, messageKey } from '@imsync/protocol';
import { test } from '@imsync/testing/vitest';
import fc from 'fast-check';
import * as v from 'valibot';
import { expect } from 'vitest';
import { type ArchivedEvent, createPool, migrate, PostgresArchive } from '../src/index.js';

// The receiver's rule: acknowledge only what the archive can store faithfully. Random bodies go
// through the very checks the receiver runs (decode, then the schema); every body they accept
// must then be stored by the real PostgreSQL sink, byte for byte, one row per distinct identity.

const SDK_APP_ID = '1600012345';
const BASES = loadFixtures().map((f) => JSON.parse(f.text) as Record<string, unknown>);

// Code units that have broken archives: NUL, lone surrogates, U+FFFD (what a lone surrogate
// becomes), a valid pair, and ordinary text.
const hazard = fc.constantFrom('\u0000', '\ud800', '\udfff', '\ufffd', '\ud83d\ude00', '\u00e9', '#', ':', ' ');
// Mostly clean values, so plenty of bodies pass and reach the sink, with hazards mixed in.
const idString = fc.oneof(
  { arbitrary: fc.constantFrom('@TGS#2QH7MZ4NE', 'g1', 'user-1', '\ufffd', 'g\u00e9'), weight: 8 },
  fc
    .array(fc.oneof(hazard, fc.string({ minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 6 })
    .map((parts) => parts.join('')),
);
const bigTime = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 2_000_000_000 }), weight: 8 },
  fc.maxSafeNat(),
  fc.constant(253_402_300_799),
);

const bodyArb = fc.record({
  base: fc.constantFrom(...BASES),
  GroupId: idString,
  TopicId: fc.option(idString, { nil: undefined }),
  From_Account: idString,
  Operator_Account: fc.option(idString, { nil: undefined }),
  Type: fc.oneof(fc.constantFrom('Public', 'Community'), idString),
  MsgId: fc.option(idString, { nil: undefined }),
  MsgSeq: fc.integer({ min: 0, max: 4 }),
  Random: fc.constantFrom(0, 4_294_967_295),
  MsgTime: bigTime,
  EventTime: fc.option(fc.oneof(bigTime, bigTime.map(String)), { nil: undefined }),
});

test('every body the receiver would acknowledge is stored faithfully, distinct identities distinct', async ({
  databaseUrl,
}) => {
  const pool = createPool({ connectionString: databaseUrl, onIdleError: () => {} });
  await migrate(pool);
  const archive = new PostgresArchive({ pool });
  let acknowledgedTotal = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(bodyArb, { minLength: 1, maxLength: 25 }), async (bodies) => {
        await pool.query('TRUNCATE group_messages');
        const acknowledged: (ArchivedEvent<GroupMessage> & { identity: ReturnType<typeof messageIdentity> })[] = [];
        for (const { base, ...fields } of bodies) {
          const text = JSON.stringify({ ...base, ...fields });
          const decoded = decodeJsonBody(new TextEncoder().encode(text));
          const parsed = decoded.ok ? v.safeParse(GroupMessageSchema, decoded.value) : undefined;
          if (parsed?.success) {
            const identity = messageIdentity(SDK_APP_ID, parsed.output);
            acknowledged.push({
              identity,
              key: messageKey(identity),
              sdkAppId: SDK_APP_ID,
              command: 'Group.CallbackAfterSendMsg',
              message: parsed.output,
              body: text,
              receivedAt: new Date(),
            });
          }
        }
        acknowledgedTotal += acknowledged.length;
        // Stored all at once, as concurrent jobs are: one batch, so one bad row would fail alone.
        const outcomes = await Promise.allSettled(acknowledged.map((m) => archive.store('group-message', m)));
        expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);

        // The first body acknowledged for an identity is the one kept; later ones are duplicates.
        // The archive's identity adds the message's own time, its partition key (every real
        // repeat carries the same MsgTime; the receiver's job id already dedupes without it).
        const distinct = new Map<string, (typeof acknowledged)[number]>();
        for (const m of acknowledged) {
          const key = `${messageKey(m.identity)}@${m.message.MsgTime}`;
          distinct.set(key, distinct.get(key) ?? m);
        }
        const { rows } = await pool.query<Record<string, string>>(
          `SELECT sdk_app_id::text, group_id, topic_id, msg_seq::text, random::text, from_account,
                  operator_account, group_type, msg_id, payload::text AS payload,
                  extract(epoch FROM msg_time)::bigint::text AS msg_time FROM group_messages`,
        );
        expect(rows).toHaveLength(distinct.size);
        const stored = new Map(
          rows.map((row) => [
            `${messageKey({
              sdkAppId: row.sdk_app_id ?? '',
              groupId: row.group_id ?? '',
              topicId: row.topic_id ?? '',
              msgSeq: Number(row.msg_seq),
              random: Number(row.random),
            })}@${row.msg_time}`,
            row,
          ]),
        );
        for (const [key, m] of distinct) {
          // Read back, every column equals what was acknowledged: nothing replaced or collapsed.
          const row = stored.get(key);
          expect(row, 'a row keyed by exactly the acknowledged identity').toBeDefined();
          expect(row?.from_account).toBe(m.message.From_Account);
          expect(row?.operator_account).toBe(m.message.Operator_Account ?? null);
          expect(row?.group_type).toBe(m.message.Type);
          expect(row?.msg_id).toBe(m.message.MsgId ?? null);
          expect(row?.payload).toBe(m.body);
        }
      }),
      { numRuns: 60 },
    );
  } finally {
    await pool.end();
  }
  // The generator must reach the sink, or the property says nothing.
  expect(acknowledgedTotal).toBeGreaterThan(100);
});
