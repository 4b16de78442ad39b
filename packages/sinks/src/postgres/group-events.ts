import type { GroupEvent } from '@imsync/protocol';
import type { Pool } from 'pg';
import type { ArchivedEvent, StoreOutcome } from '../archive.js';

const INSERT = {
  name: 'imsync_archive_group_event',
  text: `
    INSERT INTO group_events (sdk_app_id, event_key, command, group_id, group_type, operator_account, event_time,
                              payload, received_at)
    VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7 / 1000.0), $8::json, to_timestamp($9 / 1000.0))
    ON CONFLICT (event_key) DO NOTHING`,
};

/** `group_events`: group lifecycle and membership, one row per event key. */
export function createGroupEventWriter(pool: Pool) {
  return {
    async store({
      key,
      sdkAppId,
      command,
      message,
      body,
      receivedAt,
    }: ArchivedEvent<GroupEvent>): Promise<StoreOutcome> {
      const result = await pool.query({
        ...INSERT,
        values: [
          sdkAppId,
          key,
          command,
          message.GroupId,
          message.Type ?? null,
          message.Operator_Account ?? null,
          message.EventTime ?? null,
          body,
          receivedAt.getTime(),
        ],
      });
      return (result.rowCount ?? 0) > 0 ? 'stored' : 'duplicate';
    },
  };
}
