import type { GroupMessage, MessageIdentity } from '@imsync/protocol';

/** A validated group message on its way into a sink. */
export interface ArchivedMessage {
  readonly identity: MessageIdentity;
  readonly message: GroupMessage;
  /** The callback body exactly as received. */
  readonly body: string;
  readonly receivedAt: Date;
}

/** `stored`: this call wrote it; `duplicate`: the sink already had it, nothing written. */
export type StoreOutcome = 'stored' | 'duplicate';

/**
 * A destination for group messages. `store` must be idempotent by message identity: the queue
 * delivers at least once, and exactly-once in effect is the sink's job.
 */
export interface Sink {
  readonly name: string;
  store(message: ArchivedMessage): Promise<StoreOutcome>;
  close(): Promise<void>;
}

/** A message this sink can never take (bad data, not a bad moment): retrying will not help. */
export class PermanentSinkError extends Error {
  override readonly name = 'PermanentSinkError';
}
