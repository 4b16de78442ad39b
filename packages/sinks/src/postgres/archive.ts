import type { JobKind } from '@imsync/protocol';
import type { Pool } from 'pg';
import { type Archive, type ArchivedEvent, PermanentSinkError, type StoreOutcome } from '../archive.js';
import { createC2cMessageWriter } from './c2c-messages.js';
import { createC2cRecallWriter } from './c2c-recalls.js';
import { isPermanentPgError } from './errors.js';
import { createGroupEventWriter } from './group-events.js';
import { createGroupMessageWriter } from './group-messages.js';
import { createGroupRecallWriter } from './group-recalls.js';

/**
 * The PostgreSQL archive, the system of record: one writer per kind of event, each idempotent on
 * the event's identity. A statement PostgreSQL refuses for good becomes a PermanentSinkError.
 */
export class PostgresArchive implements Archive {
  readonly name = 'postgres';
  private readonly groupMessages;
  private readonly c2cMessages;
  private readonly writers: Record<JobKind, { store(event: ArchivedEvent<never>): Promise<StoreOutcome> }>;

  constructor(options: { pool: Pool }) {
    const { pool } = options;
    this.groupMessages = createGroupMessageWriter(pool);
    this.c2cMessages = createC2cMessageWriter(pool);
    this.writers = {
      'group-message': this.groupMessages,
      'group-recall': createGroupRecallWriter(pool),
      'c2c-message': this.c2cMessages,
      'c2c-recall': createC2cRecallWriter(pool),
      'group-event': createGroupEventWriter(pool),
    };
  }

  async store(kind: JobKind, event: ArchivedEvent): Promise<StoreOutcome> {
    try {
      return await this.writers[kind].store(event as ArchivedEvent<never>);
    } catch (error) {
      if (isPermanentPgError(error)) {
        throw new PermanentSinkError(`PostgreSQL refused the event: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    }
  }

  /** Waits for the batched inserts in flight. */
  async close(): Promise<void> {
    await Promise.all([this.groupMessages.close(), this.c2cMessages.close()]);
  }
}
