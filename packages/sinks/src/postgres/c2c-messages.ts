import type { C2cMessage } from '@imsync/protocol';
import type { Pool } from 'pg';
import type { ArchivedEvent, StoreOutcome } from '../archive.js';
import { createBatchedInsert, toColumns } from './batched-insert.js';

const INSERT = {
  name: 'imsync_archive_c2c_messages',
  text: `
    INSERT INTO c2c_messages (sdk_app_id, from_account, to_account, msg_key, msg_seq, msg_random, msg_time, msg_id,
                              send_result, event_time, payload, received_at)
    SELECT sdk_app_id, from_account, to_account, msg_key, msg_seq, msg_random, to_timestamp(msg_time), msg_id,
           send_result, to_timestamp(event_time / 1000.0), payload, to_timestamp(received_at / 1000.0)
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[],
                $8::text[], $9::bigint[], $10::bigint[], $11::json[], $12::bigint[])
      AS u(sdk_app_id, from_account, to_account, msg_key, msg_seq, msg_random, msg_time, msg_id,
           send_result, event_time, payload, received_at)
    ON CONFLICT ON CONSTRAINT c2c_messages_identity DO NOTHING
    RETURNING sdk_app_id::text, from_account, to_account, msg_key`,
};

/** Marks C2C messages withdrawn by a recall that arrived first (see APPLY_GROUP_RECALLS for why after commit). */
export const APPLY_C2C_RECALLS = {
  name: 'imsync_apply_c2c_recalls',
  text: `
    UPDATE c2c_messages m
    SET recalled_at = r.recalled_at, recall_payload = r.payload
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(sdk_app_id, from_account, to_account, msg_key)
    JOIN c2c_recalls r USING (sdk_app_id, from_account, to_account, msg_key)
    WHERE m.sdk_app_id = r.sdk_app_id AND m.from_account = r.from_account AND m.to_account = r.to_account
      AND m.msg_key = r.msg_key AND m.recalled_at IS NULL`,
};

const joinKey = (...parts: string[]) => parts.join('\u0000');

/**
 * `c2c_messages`: one row per one-to-one message, unique on (SDKAppID, From, To, MsgKey). A send
 * that failed is archived with its result (`send_result` ≠ 0), not as a delivered message.
 */
export function createC2cMessageWriter(pool: Pool) {
  const batched = createBatchedInsert<ArchivedEvent<C2cMessage>>({
    keyOf: ({ sdkAppId, message }) => joinKey(sdkAppId, message.From_Account, message.To_Account, message.MsgKey),
    async insert(events) {
      const columns = toColumns(events, ({ sdkAppId, message, body, receivedAt }) => [
        sdkAppId,
        message.From_Account,
        message.To_Account,
        message.MsgKey,
        message.MsgSeq,
        message.MsgRandom,
        message.MsgTime,
        message.MsgId ?? null,
        message.SendMsgResult ?? null,
        message.EventTime ?? null,
        body,
        receivedAt.getTime(),
      ]);
      const result = await pool.query<Record<'sdk_app_id' | 'from_account' | 'to_account' | 'msg_key', string>>({
        ...INSERT,
        values: columns,
      });
      await pool.query({ ...APPLY_C2C_RECALLS, values: columns.slice(0, 4) });
      return new Set(result.rows.map((row) => joinKey(row.sdk_app_id, row.from_account, row.to_account, row.msg_key)));
    },
  });
  return {
    store: (event: ArchivedEvent<C2cMessage>): Promise<StoreOutcome> => batched.store(event),
    close: () => batched.close(),
  };
}
