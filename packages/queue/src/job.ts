import { SdkAppIdSchema } from '@imsync/protocol';
import * as v from 'valibot';

/**
 * What the receiver hands to the workers. `body` is the request body text exactly as received:
 * the archive stores it byte for byte, and re-encoding a parsed object could change it (number
 * spelling, key order, duplicate keys). The worker parses and validates it again.
 */
export const GroupMessageJobDataSchema = v.object({
  sdkAppId: SdkAppIdSchema,
  body: v.string(),
  /** When the receiver accepted the callback, ms since the epoch. */
  receivedAt: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** The receiver's request id, so a job's log lines lead back to the request. */
  requestId: v.optional(v.string()),
});

export type GroupMessageJobData = v.InferOutput<typeof GroupMessageJobDataSchema>;
