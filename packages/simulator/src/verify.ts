import type { JobKind } from '@imsync/protocol';
import pg from 'pg';
import type { GeneratedIdentity, SentMessage } from './messages.js';
import type { EventRef } from './refs.js';

export interface StoredCheck {
  /** Events asked about that have a row. */
  stored: number;
  /** Events asked about that have no row: lost, if they were acknowledged. */
  missing: number;
  /** Rows beyond one per event (the unique keys should keep this at 0). */
  duplicateRows: number;
  /** All rows of this app in the table, asked about or not. */
  totalRows: number;
  /** Rows of this app that match no key asked about: written for events never sent. */
  phantomRows: number;
}

/** One app's archive of one kind of event. */
export interface KindCheck extends StoredCheck {
  /** Recalls: those of an acknowledged message whose row has no `recalled_at`. */
  notApplied?: number;
  /** C2C messages: rows whose `send_result` is not the body's `SendMsgResult`. */
  wrongSendResult?: number;
  /** Group messages: those stored from Tencent's history (`source = 'backfill'`), not from a callback. */
  backfilled?: number;
}

/** Every app's archive, kind by kind, and the sums over all of them. */
export interface ArchiveCheck extends Required<KindCheck> {
  apps: Record<string, Partial<Record<JobKind, KindCheck>>>;
}

/** Looks the messages up in `group_messages` by identity. */
export async function checkStored(
  databaseUrl: string,
  sdkAppId: string,
  messages: readonly SentMessage[],
): Promise<StoredCheck> {
  return withClient(databaseUrl, (client) => checkGroupMessages(client, sdkAppId, messages));
}

/**
 * Looks every event up in its app's archive: group messages by identity, recalls recorded and
 * applied to their message (when that was acknowledged too), C2C messages by (From, To, MsgKey)
 * with their send result, group events by key.
 */
export async function checkArchive(databaseUrl: string, events: readonly EventRef[]): Promise<ArchiveCheck> {
  return withClient(databaseUrl, (client) => checkEvents(client, events));
}

/** Polls `checkArchive` until nothing is missing or unapplied, or the time is up; returns the last check. */
export async function waitUntilArchived(
  databaseUrl: string,
  events: readonly EventRef[],
  timeoutMs: number,
): Promise<ArchiveCheck> {
  return withClient(databaseUrl, (client) =>
    poll(
      () => checkEvents(client, events),
      (check) => check.missing === 0 && check.notApplied === 0,
      timeoutMs,
    ),
  );
}

async function withClient<T>(databaseUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

// The archive is written by other processes: there is no event to await, so this polls.
async function poll<T>(check: () => Promise<T>, done: (result: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (done(result) || Date.now() > deadline) {
      return result;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface Column {
  readonly name: string;
  /** PostgreSQL type of its array parameter. */
  readonly type: 'text' | 'bigint';
  /** Part of the row's key; otherwise only read by `asSent`. */
  readonly key?: boolean;
}

interface Lookup {
  readonly table: string;
  readonly columns: readonly Column[];
  /** One looked-up key per entry: the event it belongs to, and a value per column. */
  readonly rows: readonly { readonly item: number; readonly values: readonly unknown[] }[];
  /** What a found row (`m`) must also satisfy to be as sent; it may read the input (`u`). */
  readonly asSent?: string;
}

interface LookupResult extends StoredCheck {
  /** Events with a key that has no row, or a row not as sent. */
  notAsSent: number;
}

/** Counts, per event (an event may look up several keys), what `table` holds of this app. */
async function lookUp(client: pg.Client, sdkAppId: string, lookup: Lookup): Promise<LookupResult> {
  const { table, columns } = lookup;
  const names = columns.map((c) => c.name).join(', ');
  const params = columns.map((c, i) => `$${i + 3}::${c.type}[]`).join(', ');
  const on = columns
    .filter((c) => c.key)
    .map((c) => `m.${c.name} = u.${c.name}`)
    .join(' AND ');
  const { rows } = await client.query<{
    items: number;
    missing: number;
    not_as_sent: number;
    dup: number;
    total: number;
    phantom: number;
  }>(
    `SELECT count(DISTINCT item)::int AS items,
            count(DISTINCT item) FILTER (WHERE found = 0)::int AS missing,
            count(DISTINCT item) FILTER (WHERE as_sent < found OR found = 0)::int AS not_as_sent,
            coalesce(sum(found - 1) FILTER (WHERE found > 1), 0)::int AS dup,
            (SELECT count(*) FROM ${table} WHERE sdk_app_id = $1)::int AS total,
            (SELECT count(*) FROM ${table} m WHERE m.sdk_app_id = $1 AND NOT EXISTS (
               SELECT 1 FROM unnest(${params}) AS u(${names}) WHERE ${on}))::int AS phantom
     FROM (SELECT u.ord, u.item, count(m.sdk_app_id) AS found,
                  count(m.sdk_app_id) FILTER (WHERE ${lookup.asSent ?? 'true'}) AS as_sent
           FROM unnest($2::int[], ${params}) WITH ORDINALITY AS u(item, ${names}, ord)
           LEFT JOIN ${table} m ON m.sdk_app_id = $1 AND ${on}
           GROUP BY u.ord, u.item) AS f`,
    [sdkAppId, lookup.rows.map((row) => row.item), ...columns.map((_, i) => lookup.rows.map((row) => row.values[i]))],
  );
  const row = rows[0] ?? { items: 0, missing: 0, not_as_sent: 0, dup: 0, total: 0, phantom: 0 };
  return {
    stored: row.items - row.missing,
    missing: row.missing,
    duplicateRows: row.dup,
    totalRows: row.total,
    phantomRows: row.phantom,
    notAsSent: row.not_as_sent,
  };
}

const GROUP_MESSAGE_COLUMNS: readonly Column[] = [
  { name: 'group_id', type: 'text', key: true },
  { name: 'topic_id', type: 'text', key: true },
  { name: 'msg_seq', type: 'bigint', key: true },
  { name: 'random', type: 'bigint', key: true },
];
const identityValues = (i: GeneratedIdentity) => [i.groupId, i.topicId, i.msgSeq, i.random];

const C2C_COLUMNS: readonly Column[] = [
  { name: 'from_account', type: 'text', key: true },
  { name: 'to_account', type: 'text', key: true },
  { name: 'msg_key', type: 'text', key: true },
];

async function checkGroupMessages(
  client: pg.Client,
  sdkAppId: string,
  messages: readonly SentMessage[],
): Promise<StoredCheck & { backfilled: number }> {
  const { notAsSent, ...check } = await lookUp(client, sdkAppId, {
    table: 'group_messages',
    columns: GROUP_MESSAGE_COLUMNS,
    rows: messages.map((m, item) => ({ item, values: identityValues(m.identity) })),
    asSent: "m.source = 'backfill'",
  });
  // Not "as sent" here means stored from a callback (or missing).
  return { ...check, backfilled: check.stored - (notAsSent - check.missing) };
}

const place = (...parts: (string | number)[]) => parts.join('\n');

/** One app's events of every kind. */
async function checkApp(
  client: pg.Client,
  sdkAppId: string,
  events: readonly EventRef[],
): Promise<Partial<Record<JobKind, KindCheck>>> {
  const of = <K extends EventRef['kind']>(kind: K) =>
    events.filter((event): event is Extract<EventRef, { kind: K }> => event.kind === kind);
  const result: Partial<Record<JobKind, KindCheck>> = {};
  const messages = of('group-message');
  const groupRecalls = of('group-recall');
  const c2cMessages = of('c2c-message');
  const c2cRecalls = of('c2c-recall');
  const groupEvents = of('group-event');
  if (messages.length > 0) {
    result['group-message'] = await checkGroupMessages(client, sdkAppId, messages);
  }
  if (groupRecalls.length > 0) {
    const acknowledged = new Map(
      messages.map(({ identity: i }) => [place(i.groupId, i.topicId, i.msgSeq), i] as const),
    );
    const { notAsSent, ...recorded } = await lookUp(client, sdkAppId, {
      table: 'group_recalls',
      columns: GROUP_MESSAGE_COLUMNS.slice(0, 3),
      rows: groupRecalls.flatMap((recall, item) =>
        recall.msgSeqs.map((seq) => ({ item, values: [recall.groupId, recall.topicId, seq] })),
      ),
    });
    const applied = await lookUp(client, sdkAppId, {
      table: 'group_messages',
      columns: GROUP_MESSAGE_COLUMNS,
      rows: groupRecalls.flatMap((recall, item) =>
        recall.msgSeqs.flatMap((seq) => {
          const identity = acknowledged.get(place(recall.groupId, recall.topicId, seq));
          return identity ? [{ item, values: identityValues(identity) }] : [];
        }),
      ),
      asSent: 'm.recalled_at IS NOT NULL',
    });
    result['group-recall'] = { ...recorded, notApplied: applied.notAsSent };
  }
  if (c2cMessages.length > 0) {
    const { notAsSent, ...check } = await lookUp(client, sdkAppId, {
      table: 'c2c_messages',
      columns: [...C2C_COLUMNS, { name: 'send_result', type: 'bigint' }],
      rows: c2cMessages.map((m, item) => ({ item, values: [m.from, m.to, m.msgKey, m.sendResult] })),
      asSent: 'm.send_result IS NOT DISTINCT FROM u.send_result',
    });
    result['c2c-message'] = { ...check, wrongSendResult: notAsSent - check.missing };
  }
  if (c2cRecalls.length > 0) {
    const acknowledged = new Set(c2cMessages.map((m) => place(m.from, m.to, m.msgKey)));
    const c2cValues = (r: { from: string; to: string; msgKey: string }) => [r.from, r.to, r.msgKey];
    const { notAsSent, ...recorded } = await lookUp(client, sdkAppId, {
      table: 'c2c_recalls',
      columns: C2C_COLUMNS,
      rows: c2cRecalls.map((recall, item) => ({ item, values: c2cValues(recall) })),
    });
    const applied = await lookUp(client, sdkAppId, {
      table: 'c2c_messages',
      columns: C2C_COLUMNS,
      rows: c2cRecalls.flatMap((recall, item) =>
        acknowledged.has(place(recall.from, recall.to, recall.msgKey)) ? [{ item, values: c2cValues(recall) }] : [],
      ),
      asSent: 'm.recalled_at IS NOT NULL',
    });
    result['c2c-recall'] = { ...recorded, notApplied: applied.notAsSent };
  }
  if (groupEvents.length > 0) {
    const { notAsSent, ...check } = await lookUp(client, sdkAppId, {
      table: 'group_events',
      columns: [{ name: 'event_key', type: 'text', key: true }],
      rows: groupEvents.map((event, item) => ({ item, values: [event.eventKey] })),
    });
    result['group-event'] = check;
  }
  return result;
}

async function checkEvents(client: pg.Client, events: readonly EventRef[]): Promise<ArchiveCheck> {
  const byApp = new Map<string, EventRef[]>();
  for (const event of events) {
    const appEvents = byApp.get(event.sdkAppId) ?? [];
    appEvents.push(event);
    byApp.set(event.sdkAppId, appEvents);
  }
  const total: ArchiveCheck = {
    stored: 0,
    missing: 0,
    duplicateRows: 0,
    totalRows: 0,
    phantomRows: 0,
    notApplied: 0,
    wrongSendResult: 0,
    backfilled: 0,
    apps: {},
  };
  for (const [sdkAppId, appEvents] of byApp) {
    const kinds = await checkApp(client, sdkAppId, appEvents);
    total.apps[sdkAppId] = kinds;
    for (const check of Object.values(kinds)) {
      total.stored += check.stored;
      total.missing += check.missing;
      total.duplicateRows += check.duplicateRows;
      total.totalRows += check.totalRows;
      total.phantomRows += check.phantomRows;
      total.notApplied += check.notApplied ?? 0;
      total.wrongSendResult += check.wrongSendResult ?? 0;
      total.backfilled += check.backfilled ?? 0;
    }
  }
  return total;
}
