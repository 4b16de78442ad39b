import type { Pool } from 'pg';
import { type ArchivedMessage, PermanentSinkError, type Sink, type StoreOutcome } from '../sink.js';
import { isPermanentPgError } from './errors.js';

// One statement for any batch size (so PostgreSQL prepares it once): rows travel as one array per column.
const INSERT = {
  name: 'imsync_archive_group_messages',
  text: `
    INSERT INTO group_messages (sdk_app_id, group_id, topic_id, msg_seq, random, msg_id, msg_time, event_time,
                                from_account, operator_account, group_type, payload, received_at)
    SELECT sdk_app_id, group_id, topic_id, msg_seq, random, msg_id, to_timestamp(msg_time),
           to_timestamp(event_time / 1000.0), from_account, operator_account, group_type, payload,
           to_timestamp(received_at / 1000.0)
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[],
                $8::bigint[], $9::text[], $10::text[], $11::text[], $12::json[], $13::bigint[])
      AS u(sdk_app_id, group_id, topic_id, msg_seq, random, msg_id, msg_time, event_time,
           from_account, operator_account, group_type, payload, received_at)
    ON CONFLICT ON CONSTRAINT group_messages_identity DO NOTHING
    RETURNING sdk_app_id::text, group_id, topic_id, msg_seq::text, random::text`,
};

interface Pending {
  readonly message: ArchivedMessage;
  readonly resolve: (outcome: StoreOutcome) => void;
  readonly reject: (error: unknown) => void;
}

export interface PostgresArchiveOptions {
  pool: Pool;
  /** Rows per INSERT at most. */
  maxBatch?: number;
}

/**
 * Archives messages into `group_messages`, idempotently (ON CONFLICT DO NOTHING on the identity).
 *
 * Calls made while the event loop is busy are coalesced into one multi-row INSERT, flushed as soon
 * as the current I/O phase is over (no timer, so a lone message is not kept waiting). One commit
 * per batch instead of per message is what lets a worker keep up with the receiver.
 */
export class PostgresArchiveSink implements Sink {
  readonly name = 'postgres';
  private readonly pool: Pool;
  private readonly maxBatch: number;
  private pending: Pending[] = [];
  private flushScheduled = false;

  constructor(options: PostgresArchiveOptions) {
    this.pool = options.pool;
    this.maxBatch = options.maxBatch ?? 500;
  }

  store(message: ArchivedMessage): Promise<StoreOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ message, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async close(): Promise<void> {}

  private flush(): void {
    this.flushScheduled = false;
    const pending = this.pending;
    this.pending = [];
    for (let start = 0; start < pending.length; start += this.maxBatch) {
      void this.insertBatch(pending.slice(start, start + this.maxBatch));
    }
  }

  private async insertBatch(batch: Pending[]): Promise<void> {
    let inserted: Set<string>;
    try {
      inserted = await this.insert(batch.map((p) => p.message));
    } catch (error) {
      if (isPermanentPgError(error) && batch.length > 1) {
        // One bad row fails the whole statement: store the rows one by one so only that row fails.
        await Promise.all(batch.map((p) => this.insertBatch([p])));
      } else {
        const failure = isPermanentPgError(error)
          ? new PermanentSinkError(`PostgreSQL refused the message: ${(error as Error).message}`, { cause: error })
          : error;
        for (const p of batch) {
          p.reject(failure);
        }
      }
      return;
    }
    // The same identity twice in one batch: the first caller stored it, the second is a duplicate.
    for (const p of batch) {
      const key = rowKey(p.message);
      p.resolve(inserted.delete(key) ? 'stored' : 'duplicate');
    }
  }

  private async insert(messages: readonly ArchivedMessage[]): Promise<Set<string>> {
    const columns: unknown[][] = Array.from({ length: 13 }, () => []);
    for (const { identity, message, body, receivedAt } of messages) {
      const values = [
        identity.sdkAppId,
        identity.groupId,
        identity.topicId,
        identity.msgSeq,
        identity.random,
        message.MsgId ?? null,
        message.MsgTime,
        message.EventTime ?? null,
        message.From_Account,
        message.Operator_Account ?? null,
        message.Type,
        body,
        receivedAt.getTime(),
      ];
      for (const [i, value] of values.entries()) {
        columns[i]?.push(value);
      }
    }
    const result = await this.pool.query<Record<'sdk_app_id' | 'group_id' | 'topic_id' | 'msg_seq' | 'random', string>>(
      {
        ...INSERT,
        values: columns,
      },
    );
    return new Set(
      result.rows.map((row) => joinKey(row.sdk_app_id, row.group_id, row.topic_id, row.msg_seq, row.random)),
    );
  }
}

function rowKey({ identity }: ArchivedMessage): string {
  return joinKey(
    identity.sdkAppId,
    identity.groupId,
    identity.topicId,
    String(identity.msgSeq),
    String(identity.random),
  );
}

// NUL cannot occur in PostgreSQL text, so it cannot make two different identities collide.
function joinKey(...parts: string[]): string {
  return parts.join('\u0000');
}
