import { type JobKind, SdkAppIdSchema } from '@imsync/protocol';
import * as v from 'valibot';

/**
 * A W3C trace context (`traceparent`), carried in a job's data when tracing is on, so the work a
 * job does joins the trace of the request that queued it. Job data is forgeable: exactly the format.
 */
export const TraceparentSchema = v.pipe(v.string(), v.regex(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/));

/** The traceparent of a job's data, if it holds a well-formed one. */
export function traceparentOf(data: unknown): string | undefined {
  const value = (data as { traceparent?: unknown } | null)?.traceparent;
  return v.is(TraceparentSchema, value) ? value : undefined;
}

/**
 * What the receiver hands to the workers for every stored callback. `body` is the request body
 * text exactly as received: the archive stores it byte for byte, and re-encoding a parsed object
 * could change it (number spelling, key order, duplicate keys). The worker parses and validates
 * it again, with the schema its command names in the catalog.
 */
export const CallbackJobDataSchema = v.object({
  sdkAppId: SdkAppIdSchema,
  /** The CallbackCommand; absent on group-message jobs queued before there were other commands. */
  command: v.optional(v.string()),
  body: v.string(),
  /** When the receiver accepted the callback, ms since the epoch. */
  receivedAt: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** The receiver's request id, so a job's log lines lead back to the request. */
  requestId: v.optional(v.string()),
  /** Where the event came from: a callback (the default), or Tencent's history (a backfill). */
  source: v.optional(v.picklist(['callback', 'backfill'])),
  traceparent: v.optional(TraceparentSchema),
});

export type CallbackJobData = v.InferOutput<typeof CallbackJobDataSchema>;

/**
 * The job catalog: every job name on the ingest queue (one per kind of work in the callback
 * catalog) and its payload. Every kind carries the body as received, so they share a payload
 * today; a kind that needs more gets its own schema here, and `enqueue` is typed by it.
 */
export const JOB_CATALOG = {
  'group-message': { data: CallbackJobDataSchema },
  'group-recall': { data: CallbackJobDataSchema },
  'c2c-message': { data: CallbackJobDataSchema },
  'c2c-recall': { data: CallbackJobDataSchema },
  'group-event': { data: CallbackJobDataSchema },
} as const satisfies Record<JobKind, { data: v.GenericSchema }>;

export type JobName = keyof typeof JOB_CATALOG;
export type JobData<N extends JobName> = v.InferOutput<(typeof JOB_CATALOG)[N]['data']>;
