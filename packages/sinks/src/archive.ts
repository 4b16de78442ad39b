import type { JobKind } from '@imsync/protocol';

/** A validated callback on its way into the archive. */
export interface ArchivedEvent<TBody = unknown> {
  /** The event's key from the callback catalog (its job id and dedupe marker). */
  readonly key: string;
  readonly sdkAppId: string;
  readonly command: string;
  /** The body parsed by its command's schema. */
  readonly message: TBody;
  /** The callback body exactly as received. */
  readonly body: string;
  readonly receivedAt: Date;
  /** A callback (the default), or a message recovered from Tencent's history. */
  readonly source?: 'callback' | 'backfill';
}

/** `stored`: this call wrote it; `duplicate`: the archive already had it, nothing written. */
export type StoreOutcome = 'stored' | 'duplicate';

/**
 * Where every kind of event ends up. `store` must be idempotent by the event's identity: the
 * queue delivers at least once, and exactly-once in effect is the archive's job.
 */
export interface Archive {
  readonly name: string;
  store(kind: JobKind, event: ArchivedEvent): Promise<StoreOutcome>;
  /** Waits for the writes in flight. */
  close(): Promise<void>;
}

/** An event this archive can never take (bad data, not a bad moment): retrying will not help. */
export class PermanentSinkError extends Error {
  override readonly name = 'PermanentSinkError';
}
