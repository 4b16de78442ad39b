import { type GroupMessage, messageIdentity } from '@imsync/protocol';
import type { Pool } from 'pg';
import type { ArchivedEvent, StoreOutcome } from '../archive.js';
import { createBatchedInsert, toColumns } from './batched-insert.js';

// One statement for any batch size (so PostgreSQL prepares it once): rows travel as one array per column.
const INSERT = {
  name: 'imsync_archive_group_messages',
  text: `
    INSERT INTO group_messages (sdk_app_id, group_id, topic_id, msg_seq, random, msg_id, msg_time, event_time,
                                from_account, operator_account, group_type, payload, received_at, source)
    SELECT sdk_app_id, group_id, topic_id, msg_seq, random, msg_id, to_timestamp(msg_time),
           to_timestamp(event_time / 1000.0), from_account, operator_account, group_type, payload,
           to_timestamp(received_at / 1000.0), source
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[],
                $8::bigint[], $9::text[], $10::text[], $11::text[], $12::json[], $13::bigint[], $14::text[])
      AS u(sdk_app_id, group_id, topic_id, msg_seq, random, msg_id, msg_time, event_time,
           from_account, operator_account, group_type, payload, received_at, source)
    ON CONFLICT ON CONSTRAINT group_messages_identity DO NOTHING
    RETURNING sdk_app_id::text, group_id, topic_id, msg_seq::text, random::text`,
};

/**
 * Marks messages recalled by a recall that arrived first. It runs after the INSERT committed,
 * and the recall side runs its own after its INSERT committed: whichever commits last sees the
 * other, so a message and its recall racing each other always end up marked.
 */
export const APPLY_GROUP_RECALLS = {
  name: 'imsync_apply_group_recalls',
  text: `
    UPDATE group_messages m
    SET recalled_at = r.recalled_at, recalled_by = r.recalled_by, recall_payload = r.payload
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) AS u(sdk_app_id, group_id, topic_id, msg_seq)
    JOIN group_recalls r USING (sdk_app_id, group_id, topic_id, msg_seq)
    WHERE m.sdk_app_id = r.sdk_app_id AND m.group_id = r.group_id AND m.topic_id = r.topic_id
      AND m.msg_seq = r.msg_seq AND m.recalled_at IS NULL`,
};

// NUL cannot occur in PostgreSQL text, so it cannot make two different identities collide.
const joinKey = (...parts: string[]) => parts.join('\u0000');

/** `group_messages`: one row per message, the body verbatim; concurrent stores share an INSERT. */
export function createGroupMessageWriter(pool: Pool) {
  const rowKey = (event: ArchivedEvent<GroupMessage>) => {
    const id = messageIdentity(event.sdkAppId, event.message);
    return joinKey(id.sdkAppId, id.groupId, id.topicId, String(id.msgSeq), String(id.random));
  };
  const batched = createBatchedInsert<ArchivedEvent<GroupMessage>>({
    keyOf: rowKey,
    async insert(events) {
      const columns = toColumns(events, ({ sdkAppId, message, body, receivedAt, source }) => {
        const id = messageIdentity(sdkAppId, message);
        return [
          id.sdkAppId,
          id.groupId,
          id.topicId,
          id.msgSeq,
          id.random,
          message.MsgId ?? null,
          message.MsgTime,
          message.EventTime ?? null,
          message.From_Account,
          message.Operator_Account ?? null,
          message.Type,
          body,
          receivedAt.getTime(),
          source ?? 'callback',
        ];
      });
      const result = await pool.query<Record<'sdk_app_id' | 'group_id' | 'topic_id' | 'msg_seq' | 'random', string>>({
        ...INSERT,
        values: columns,
      });
      // Duplicates included: a retry after a crash between the two statements still applies.
      await pool.query({ ...APPLY_GROUP_RECALLS, values: columns.slice(0, 4) });
      return new Set(
        result.rows.map((row) => joinKey(row.sdk_app_id, row.group_id, row.topic_id, row.msg_seq, row.random)),
      );
    },
  });
  return {
    store: (event: ArchivedEvent<GroupMessage>): Promise<StoreOutcome> => batched.store(event),
    close: () => batched.close(),
  };
}
