import type { GroupRecall } from '@imsync/protocol';
import type { Pool } from 'pg';
import type { ArchivedEvent, StoreOutcome } from '../archive.js';
import { APPLY_GROUP_RECALLS } from './group-messages.js';

const RECORD = {
  name: 'imsync_record_group_recall',
  text: `
    INSERT INTO group_recalls (sdk_app_id, group_id, topic_id, msg_seq, recalled_at, recalled_by, payload, received_at)
    SELECT $1, $2, $3, seq, to_timestamp($5 / 1000.0), $6, $7::json, to_timestamp($8 / 1000.0)
    FROM unnest($4::bigint[]) AS seq
    ON CONFLICT DO NOTHING
    RETURNING msg_seq`,
};

/**
 * A group recall: recorded per MsgSeq (so a message that arrives later is marked too), then
 * applied to the messages already archived. `stored` when any of its MsgSeqs was new.
 */
export function createGroupRecallWriter(pool: Pool) {
  return {
    async store({ sdkAppId, message, body, receivedAt }: ArchivedEvent<GroupRecall>): Promise<StoreOutcome> {
      const seqs = [...new Set(message.MsgSeqList.map((item) => item.MsgSeq))];
      const topicId = message.TopicId ?? '';
      const recalledAt = message.EventTime ?? receivedAt.getTime();
      const recorded = await pool.query({
        ...RECORD,
        values: [
          sdkAppId,
          message.GroupId,
          topicId,
          seqs,
          recalledAt,
          message.Operator_Account ?? null,
          body,
          receivedAt.getTime(),
        ],
      });
      const n = seqs.length;
      await pool.query({
        ...APPLY_GROUP_RECALLS,
        values: [Array(n).fill(sdkAppId), Array(n).fill(message.GroupId), Array(n).fill(topicId), seqs],
      });
      return (recorded.rowCount ?? 0) > 0 ? 'stored' : 'duplicate';
    },
  };
}
