import type { Pool } from 'pg';

/** The section of BENCHMARKS.md and of README.md that `pnpm bench:archive` writes. */
export const ARCHIVE_SECTION = 'archive-bench';
export const ARCHIVE_PLANS_SECTION = 'archive-plans';

export const APP = 1400000001;
/** Groups 0 … COMMUNITIES-1 are Communities: their messages spread over TOPICS topics. */
export const COMMUNITIES = 50;
export const TOPICS = 5;

export interface Shape {
  readonly rows: number;
  readonly days: number;
  readonly groups: number;
  readonly users: number;
  /** The first day's start (UTC). */
  readonly start: Date;
}

const topicOf = (group: number, k: number) => `@TGS#_@TGS#g${group}@TOPIC#_t${k}`;

/**
 * Generated group messages, in time order as they would arrive: `rows` over `days`, each group's
 * MsgSeq counting up, Communities' messages spread over topics, senders over `users`, and a body of
 * the size of a short text message. Rows `from` … `to - 1` of the whole run.
 */
export async function generateRows(pool: Pool, shape: Shape, from: number, to: number): Promise<void> {
  await pool.query(
    `INSERT INTO group_messages (sdk_app_id, group_id, topic_id, msg_seq, random, msg_id, msg_time, event_time,
                                 from_account, operator_account, group_type, payload, received_at, stored_at)
     SELECT $1, 'g' || grp, topic, seq, rnd, rnd || '-' || g, t, t, 'user' || usr, 'user' || usr, gtype,
            format('{"CallbackCommand":"Group.CallbackAfterSendMsg","GroupId":"g%s","Type":"%s","From_Account":"user%s",'
                   '"Operator_Account":"user%s","Random":%s,"MsgSeq":%s,"MsgTime":%s,"MsgBody":[{"MsgType":"TIMTextElem",'
                   '"MsgContent":{"Text":"%s"}}],"CloudCustomData":""%s}',
                   grp, gtype, usr, usr, rnd, seq, extract(epoch FROM t)::bigint, md5(g::text) || ' ' || md5((g + 1)::text),
                   CASE WHEN topic = '' THEN '' ELSE format(',"TopicId":"%s"', topic) END)::json,
            t, t
     FROM (SELECT g, grp, seq,
                  CASE WHEN grp < $7 THEN '@TGS#_@TGS#g' || grp || '@TOPIC#_t' || (seq % $8) ELSE '' END AS topic,
                  CASE WHEN grp < $7 THEN 'Community' ELSE 'Public' END AS gtype,
                  (hashint4(g) & 2147483647)::bigint AS rnd,
                  (hashint4(g + 7) & 2147483647) % $6 AS usr,
                  $2::timestamptz + (g::float8 / $3) * ($4 * interval '1 day') AS t
           FROM (SELECT g, g % $5 AS grp, g / $5 + 1 AS seq FROM generate_series($9::int, $10::int - 1) AS g) s) x`,
    [APP, shape.start, shape.rows, shape.days, shape.groups, shape.users, COMMUNITIES, TOPICS, from, to],
  );
}

export interface ArchiveQuery {
  readonly name: string;
  /** What a user of the archive asks, in words. */
  readonly question: string;
  readonly sql: string;
  /** Parameters for run `i`, from the data's shape (the same for every variant of a run). */
  params(shape: Shape, i: number): unknown[];
}

const DAY_MS = 86_400_000;
const pick = (i: number, n: number, salt: number) => ((i * 7919 + salt * 104_729) % n) + (n > 100 ? COMMUNITIES : 0);
/** A time inside the data: the last day's noon, minus `daysBack`. */
const within = (shape: Shape, daysBack: number) =>
  new Date(shape.start.getTime() + (shape.days - daysBack - 0.5) * DAY_MS);

/** What people ask of an IM archive; each served by an index of migration 5 (README, "The archive"). */
export const QUERIES: readonly ArchiveQuery[] = [
  {
    name: 'group-latest',
    question: "A group's latest 50 messages, newest first",
    sql: `SELECT msg_seq, from_account, msg_time, payload FROM group_messages
WHERE sdk_app_id = $1 AND group_id = $2 ORDER BY msg_time DESC LIMIT 50`,
    params: (shape, i) => [APP, `g${pick(i, shape.groups - COMMUNITIES, 1)}`],
  },
  {
    name: 'group-day',
    question: "A group's messages of one day, in order",
    sql: `SELECT msg_seq, from_account, msg_time, payload FROM group_messages
WHERE sdk_app_id = $1 AND group_id = $2 AND msg_time >= $3 AND msg_time < $3::timestamptz + interval '1 day'
ORDER BY msg_time`,
    params: (shape, i) => [APP, `g${pick(i, shape.groups - COMMUNITIES, 2)}`, within(shape, (i % 20) + 1)],
  },
  {
    name: 'topic-page',
    question: "A topic's messages by MsgSeq, one page of 50 after a seq",
    sql: `SELECT msg_seq, from_account, msg_time, payload FROM group_messages
WHERE sdk_app_id = $1 AND group_id = $2 AND topic_id = $3 AND msg_seq > $4 ORDER BY msg_seq LIMIT 50`,
    params: (shape, i) => {
      const group = i % COMMUNITIES;
      const perGroup = Math.floor(shape.rows / shape.groups);
      return [APP, `g${group}`, topicOf(group, i % TOPICS), (i * 131) % Math.max(1, perGroup - 300)];
    },
  },
  {
    name: 'user-week',
    question: "A user's messages of the last 7 days, newest first (100)",
    sql: `SELECT group_id, msg_seq, msg_time, payload FROM group_messages
WHERE sdk_app_id = $1 AND from_account = $2 AND msg_time >= $3 ORDER BY msg_time DESC LIMIT 100`,
    params: (shape, i) => [APP, `user${(i * 7919) % shape.users}`, within(shape, 7)],
  },
  {
    name: 'hour-count',
    question: 'How many messages in one hour, all groups',
    sql: `SELECT count(*) FROM group_messages WHERE msg_time >= $1 AND msg_time < $1::timestamptz + interval '1 hour'`,
    params: (shape, i) => [within(shape, (i % 20) + 1)],
  },
  {
    name: 'by-seq',
    question: 'One message by group and MsgSeq (what a recall looks up)',
    sql: `SELECT msg_time, from_account FROM group_messages
WHERE sdk_app_id = $1 AND group_id = $2 AND topic_id = '' AND msg_seq = $3`,
    params: (shape, i) => [
      APP,
      `g${pick(i, shape.groups - COMMUNITIES, 3)}`,
      1 + ((i * 977) % Math.floor(shape.rows / shape.groups)),
    ],
  },
];

/**
 * A plan as README shows it: the blocks of lines that repeat once per partition (one per day)
 * folded into one, marked with how many partitions they stand for.
 */
export function foldPlan(lines: readonly string[]): string {
  const normal = lines.map((line) =>
    line.replace(/group_messages_p\d{8}/g, 'group_messages_p*').replace(/group_messages_(\d+)\b/g, 'group_messages_n'),
  );
  const out: string[] = [];
  let i = 0;
  while (i < normal.length) {
    let best = { size: 1, times: 1 };
    for (let size = 1; size <= 6; size += 1) {
      const block = normal.slice(i, i + size).join('\n');
      let times = 1;
      while (normal.slice(i + times * size, i + (times + 1) * size).join('\n') === block) {
        times += 1;
      }
      if (times > 1 && size * times > best.size * best.times) {
        best = { size, times };
      }
    }
    const block = normal.slice(i, i + best.size);
    out.push(...(best.times > 1 ? [`${block[0]}   (× ${best.times} partitions)`, ...block.slice(1)] : block));
    i += best.size * best.times;
  }
  return out.join('\n');
}
