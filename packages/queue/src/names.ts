import * as v from 'valibot';
import { BACKFILL_QUEUE } from './backfill.js';

/** BullMQ key prefix for every imsync queue; tests use their own so they never share keys. */
const DEFAULT_QUEUE_PREFIX = 'imsync';

/** `QUEUE_PREFIX` in every process's config: it must be the same everywhere, and a safe key part. */
export const QueuePrefixVar = v.optional(
  v.pipe(v.string(), v.regex(/^[\w.-]+$/, 'letters, digits, _ . - only')),
  DEFAULT_QUEUE_PREFIX,
);

/**
 * The one queue every stored callback travels through, from the receiver to the workers; the job
 * name says what kind of callback it is (the job catalog). Named when it held group messages
 * only: a new name would strand the jobs an older version left queued.
 */
export const INGEST_QUEUE = 'group-messages';

/** Redis key of the marker that says an event already reached the archive. */
export function dedupeMarkerKey(prefix: string, eventKey: string): string {
  return `${prefix}:dedupe:${eventKey}`;
}

/** Every queue imsync always runs, for the dashboard (destinations' queues are found at run time). */
export const ALL_QUEUES = [INGEST_QUEUE, BACKFILL_QUEUE] as const;
