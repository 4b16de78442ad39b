import {
  formatIssues,
  GroupMessageSchema,
  MAX_JSON_DEPTH_LIMIT,
  messageIdentity,
  messageKey,
  parseJsonText,
} from '@imsync/protocol';
import { type GroupMessageJobData, GroupMessageJobDataSchema } from '@imsync/queue';
import { PermanentSinkError, type Sink, type StoreOutcome } from '@imsync/sinks';
import { UnrecoverableError } from 'bullmq';
import * as v from 'valibot';
import type { DedupeStore } from '../dedupe.js';

export interface GroupMessageDeps {
  /** The apps this worker serves (TIM_SDK_APP_ID): job data is forgeable, so it is checked too. */
  sdkAppIds: ReadonlySet<string>;
  sink: Sink;
  dedupe: DedupeStore;
  /** Told of every error the sink raised (not of Redis or validation errors). */
  onSinkError?: (error: unknown) => void;
}

/**
 * One group message into the sink, exactly once in effect. Data no retry can fix fails the job
 * for good (UnrecoverableError); anything else throws as it is, so BullMQ retries with backoff.
 */
export async function processGroupMessage(data: unknown, deps: GroupMessageDeps): Promise<StoreOutcome> {
  const job = v.safeParse(GroupMessageJobDataSchema, data);
  if (!job.success) {
    throw new UnrecoverableError(`job data invalid: ${formatIssues(job.issues)}`);
  }
  const { sdkAppId, body, receivedAt } = job.output satisfies GroupMessageJobData;
  if (!deps.sdkAppIds.has(sdkAppId)) {
    throw new UnrecoverableError(`job for SDKAppID ${sdkAppId}, which this worker does not serve (TIM_SDK_APP_ID)`);
  }
  // The receiver already enforced its configured depth; this bound only guards against odd jobs.
  const decoded = parseJsonText(body, MAX_JSON_DEPTH_LIMIT);
  if (!decoded.ok) {
    throw new UnrecoverableError(`body is not JSON: ${decoded.detail}`);
  }
  const parsed = v.safeParse(GroupMessageSchema, decoded.value);
  if (!parsed.success) {
    throw new UnrecoverableError(`body invalid: ${formatIssues(parsed.issues)}`);
  }

  const identity = messageIdentity(sdkAppId, parsed.output);
  const key = messageKey(identity);
  if (await deps.dedupe.seen(key)) {
    return 'duplicate';
  }
  let outcome: StoreOutcome;
  try {
    outcome = await deps.sink.store({ identity, message: parsed.output, body, receivedAt: new Date(receivedAt) });
  } catch (error) {
    deps.onSinkError?.(error);
    if (error instanceof PermanentSinkError) {
      throw new UnrecoverableError(error.message);
    }
    throw error;
  }
  await deps.dedupe.mark(key);
  return outcome;
}
