import type { C2cRecall } from '@imsync/protocol';
import type { Pool } from 'pg';
import type { ArchivedEvent, StoreOutcome } from '../archive.js';
import { APPLY_C2C_RECALLS } from './c2c-messages.js';

const RECORD = {
  name: 'imsync_record_c2c_recall',
  text: `
    INSERT INTO c2c_recalls (sdk_app_id, from_account, to_account, msg_key, recalled_at, payload, received_at)
    VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0), $6::json, to_timestamp($7 / 1000.0))
    ON CONFLICT DO NOTHING`,
};

/** A C2C withdrawal: recorded (so a message that arrives later is marked), then applied. */
export function createC2cRecallWriter(pool: Pool) {
  return {
    async store({ sdkAppId, message, body, receivedAt }: ArchivedEvent<C2cRecall>): Promise<StoreOutcome> {
      const recorded = await pool.query({
        ...RECORD,
        values: [
          sdkAppId,
          message.From_Account,
          message.To_Account,
          message.MsgKey,
          message.EventTime ?? receivedAt.getTime(),
          body,
          receivedAt.getTime(),
        ],
      });
      await pool.query({
        ...APPLY_C2C_RECALLS,
        values: [[sdkAppId], [message.From_Account], [message.To_Account], [message.MsgKey]],
      });
      return (recorded.rowCount ?? 0) > 0 ? 'stored' : 'duplicate';
    },
  };
}
