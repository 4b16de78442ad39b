import pg from 'pg';
import type { SentMessage } from './messages.js';

export interface StoredCheck {
  /** Messages asked about that have a row. */
  stored: number;
  /** Messages asked about that have no row: lost, if they were acknowledged. */
  missing: number;
  /** Rows beyond one per message (the unique key should keep this at 0). */
  duplicateRows: number;
  /** All rows of this app in the archive, asked about or not. */
  totalRows: number;
}

/** Looks the messages up in `group_messages` by identity. */
export async function checkStored(
  databaseUrl: string,
  sdkAppId: string,
  messages: readonly SentMessage[],
): Promise<StoredCheck> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const ids = messages.map((m) => m.identity);
    const { rows } = await client.query<{ rows: number; messages: number; total: number }>(
      `SELECT
         (SELECT count(*) FROM group_messages g
            JOIN unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS u(group_id, topic_id, msg_seq, random)
            USING (group_id, topic_id, msg_seq, random) WHERE g.sdk_app_id = $1)::int AS rows,
         (SELECT count(*) FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS u(group_id, topic_id, msg_seq, random)
            WHERE EXISTS (SELECT 1 FROM group_messages g WHERE g.sdk_app_id = $1 AND g.group_id = u.group_id
                            AND g.topic_id = u.topic_id AND g.msg_seq = u.msg_seq AND g.random = u.random))::int AS messages,
         (SELECT count(*) FROM group_messages WHERE sdk_app_id = $1)::int AS total`,
      [
        sdkAppId,
        ids.map((i) => i.groupId),
        ids.map((i) => i.topicId),
        ids.map((i) => i.msgSeq),
        ids.map((i) => i.random),
      ],
    );
    const row = rows[0] ?? { rows: 0, messages: 0, total: 0 };
    return {
      stored: row.messages,
      missing: ids.length - row.messages,
      duplicateRows: row.rows - row.messages,
      totalRows: row.total,
    };
  } finally {
    await client.end();
  }
}

/** Polls `checkStored` until nothing is missing or the time is up; returns the last check. */
export async function waitUntilStored(
  databaseUrl: string,
  sdkAppId: string,
  messages: readonly SentMessage[],
  timeoutMs: number,
): Promise<StoredCheck> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const check = await checkStored(databaseUrl, sdkAppId, messages);
    if (check.missing === 0 || Date.now() > deadline) {
      return check;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
