import * as v from 'valibot';

/** BullMQ key prefix for every imsync queue; tests use their own so they never share keys. */
export const DEFAULT_QUEUE_PREFIX = 'imsync';

/** `QUEUE_PREFIX` in every process's config: it must be the same everywhere, and a safe key part. */
export const QueuePrefixVar = v.optional(
  v.pipe(v.string(), v.regex(/^[\w.-]+$/, 'letters, digits, _ . - only')),
  DEFAULT_QUEUE_PREFIX,
);

/** The one queue group messages travel through, from the receiver to the workers. */
export const GROUP_MESSAGES_QUEUE = 'group-messages';

/** Every job on that queue has this name; the queue holds one kind of job. */
export const GROUP_MESSAGE_JOB = 'group-message';

/** Redis key of the marker that says a message already reached the sink. */
export function dedupeMarkerKey(prefix: string, messageKey: string): string {
  return `${prefix}:dedupe:${messageKey}`;
}

/** Every queue imsync runs, for the dashboard and the queue metrics. */
export const ALL_QUEUES = [GROUP_MESSAGES_QUEUE] as const;
