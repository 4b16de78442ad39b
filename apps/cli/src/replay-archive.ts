import {
  C2C_AFTER_MSG_WITHDRAW,
  C2C_AFTER_SEND_MSG,
  CALLBACK_CATALOG,
  GROUP_AFTER_RECALL_MSG,
  GROUP_AFTER_SEND_MSG,
  type JobKind,
  parseStoredBody,
} from '@imsync/protocol';
import type { DeliverableEvent } from '@imsync/queue';
import type pg from 'pg';

/** Which archived events to read. */
export interface ArchiveSelection {
  /** Received at or after; undefined: from the oldest. */
  since: Date | undefined;
  /** Received before. */
  until: Date;
  /** Group tables only have one; the caller leaves out the commands whose tables have none. */
  group: string | undefined;
  app: string | undefined;
  /** Catalog commands. */
  commands: readonly string[];
  /** Rows per query. */
  pageRows: number;
}

/** One page read: its events (de-duplicated), its row count, and the commands of rows that no longer parse. */
export interface ArchivePage {
  rows: number;
  events: DeliverableEvent[];
  unreadable: string[];
}

/** One archive table, read in the order of its primary key (keyset pagination: no OFFSET, no sort). */
interface ArchiveTable {
  readonly name: string;
  /** Its primary key's columns and their types, the order it is read in. */
  readonly order: readonly (readonly [column: string, type: 'bigint' | 'text'])[];
  readonly hasGroup: boolean;
  /**
   * How many leading key columns all rows of one event share, when one event may span several
   * rows (a group recall has a row per MsgSeq): such rows are then next to each other.
   */
  readonly eventScope?: number;
  /** The command is a column (the table holds several); otherwise it is the kind's one command. */
  readonly commandColumn?: boolean;
}

const TABLES: Readonly<Record<JobKind, ArchiveTable>> = {
  'group-message': { name: 'group_messages', order: [['id', 'bigint']], hasGroup: true },
  'group-recall': {
    name: 'group_recalls',
    order: [
      ['sdk_app_id', 'bigint'],
      ['group_id', 'text'],
      ['topic_id', 'text'],
      ['msg_seq', 'bigint'],
    ],
    hasGroup: true,
    eventScope: 3,
  },
  'c2c-message': { name: 'c2c_messages', order: [['id', 'bigint']], hasGroup: false },
  'c2c-recall': {
    name: 'c2c_recalls',
    order: [
      ['sdk_app_id', 'bigint'],
      ['from_account', 'text'],
      ['to_account', 'text'],
      ['msg_key', 'text'],
    ],
    hasGroup: false,
  },
  'group-event': { name: 'group_events', order: [['id', 'bigint']], hasGroup: true, commandColumn: true },
};

/** The one command of each kind whose table has no command column. */
const COMMAND_OF: Partial<Record<JobKind, string>> = {
  'group-message': GROUP_AFTER_SEND_MSG,
  'group-recall': GROUP_AFTER_RECALL_MSG,
  'c2c-message': C2C_AFTER_SEND_MSG,
  'c2c-recall': C2C_AFTER_MSG_WITHDRAW,
};

interface ArchiveRow {
  sdk_app_id: string;
  payload: string;
  received_ms: string;
  command?: string;
  [key: `k${number}`]: string;
}

/** The tables a selection reads, each with the selected commands it holds. */
function tablesOf(selection: ArchiveSelection) {
  const kinds = new Set(selection.commands.map((command) => CALLBACK_CATALOG[command]?.job as JobKind));
  return [...kinds].map((kind) => ({
    kind,
    table: TABLES[kind],
    commands: selection.commands.filter((command) => CALLBACK_CATALOG[command]?.job === kind),
  }));
}

/** The WHERE clause of a selection for one table, with its values. */
function filters(table: ArchiveTable, selection: ArchiveSelection, commands: readonly string[]) {
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const where = [`received_at < ${param(selection.until)}`];
  if (selection.since) {
    where.push(`received_at >= ${param(selection.since)}`);
  }
  if (selection.app) {
    where.push(`sdk_app_id = ${param(selection.app)}::bigint`);
  }
  if (selection.group !== undefined && table.hasGroup) {
    where.push(`group_id = ${param(selection.group)}`);
  }
  if (table.commandColumn) {
    where.push(`command = ANY(${param(commands)}::text[])`);
  }
  return { where, values, param };
}

/** How many rows a selection reads (for a progress bar: an event may span several rows). */
export async function countArchiveRows(client: pg.Client, selection: ArchiveSelection): Promise<number> {
  let total = 0;
  for (const { table, commands } of tablesOf(selection)) {
    const { where, values } = filters(table, selection, commands);
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${table.name} WHERE ${where.join(' AND ')}`,
      values,
    );
    total += Number(rows[0]?.n ?? 0);
  }
  return total;
}

/** Pages of rows of one table; `payload::text` is the body exactly as received (json keeps it). */
async function* pagesOf(
  client: pg.Client,
  table: ArchiveTable,
  selection: ArchiveSelection,
  commands: readonly string[],
) {
  const columns = table.order.map(([column]) => column).join(', ');
  const select = [
    ...table.order.map(([column], i) => `${column}::text AS k${i}`),
    'sdk_app_id::text AS sdk_app_id',
    'payload::text AS payload',
    // timestamptz keeps microseconds; the receiver's time was whole milliseconds.
    'round(extract(epoch FROM received_at) * 1000)::text AS received_ms',
    ...(table.commandColumn ? ['command'] : []),
  ].join(', ');
  let after: string[] | undefined;
  for (;;) {
    const { where, values, param } = filters(table, selection, commands);
    if (after) {
      const bounds = after.map((value, i) => `${param(value)}::${table.order[i]?.[1]}`);
      where.push(`(${columns}) > (${bounds.join(', ')})`);
    }
    const { rows } = await client.query<ArchiveRow>(
      `SELECT ${select} FROM ${table.name} WHERE ${where.join(' AND ')} ORDER BY ${columns} LIMIT ${selection.pageRows}`,
      values,
    );
    if (rows.length > 0) {
      yield rows;
    }
    if (rows.length < selection.pageRows) {
      return;
    }
    const last = rows[rows.length - 1] as ArchiveRow;
    // Primary key columns: never NULL.
    after = table.order.map((_, i) => last[`k${i}`] ?? '');
  }
}

/** An archived row as the event it was: its command, its key (as the worker derived it) and its body. */
function eventOf(kind: JobKind, row: ArchiveRow): DeliverableEvent | { unreadable: string } {
  const command = row.command ?? (COMMAND_OF[kind] as string);
  const definition = CALLBACK_CATALOG[command];
  if (!definition || definition.job !== kind) {
    return { unreadable: command };
  }
  // Parsed as the worker parsed it, so the key is the one it derived.
  const parsed = parseStoredBody(definition, row.sdk_app_id, row.payload);
  if (!parsed.ok) {
    return { unreadable: command };
  }
  return {
    key: parsed.key,
    command,
    sdkAppId: row.sdk_app_id,
    receivedAt: new Date(Number(row.received_ms)),
    body: row.payload,
  };
}

/**
 * The selected events, a page at a time, each once: never a whole table in memory. The next page
 * is read only once the caller asks for it (after it enqueued this one).
 */
export async function* readArchive(client: pg.Client, selection: ArchiveSelection): AsyncGenerator<ArchivePage> {
  for (const { kind, table, commands } of tablesOf(selection)) {
    // Only rows of one scope can be one event: the keys seen in the current scope are enough.
    let scope: string | undefined;
    let seen = new Set<string>();
    for await (const rows of pagesOf(client, table, selection, commands)) {
      const page: ArchivePage = { rows: rows.length, events: [], unreadable: [] };
      for (const row of rows) {
        const event = eventOf(kind, row);
        if ('unreadable' in event) {
          page.unreadable.push(event.unreadable);
          continue;
        }
        if (table.eventScope) {
          const rowScope = table.order
            .slice(0, table.eventScope)
            .map((_, i) => row[`k${i}`])
            .join('\u0000');
          if (rowScope !== scope) {
            scope = rowScope;
            seen = new Set();
          }
          if (seen.has(event.key)) {
            continue;
          }
          seen.add(event.key);
        }
        page.events.push(event);
      }
      yield page;
    }
  }
}
