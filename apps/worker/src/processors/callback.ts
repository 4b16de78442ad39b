import {
  CALLBACK_CATALOG,
  type CallbackDefinition,
  formatIssues,
  GROUP_AFTER_SEND_MSG,
  type JobKind,
  parseStoredBody,
} from '@imsync/protocol';
import { type CallbackJobData, CallbackJobDataSchema } from '@imsync/queue';
import { type Archive, PermanentSinkError, type StoreOutcome } from '@imsync/sinks';
import { currentTraceparent, inSpan, SpanKind } from '@imsync/tracing';
import { UnrecoverableError } from 'bullmq';
import * as v from 'valibot';
import type { DedupeStore } from '../dedupe.js';
import type { FanOut } from '../fan-out.js';

export interface CallbackDeps {
  /** The apps this worker serves (TIM_SDK_APP_ID / TIM_APPS): job data is forgeable, so it is checked too. */
  sdkAppIds: ReadonlySet<string>;
  archive: Archive;
  /** The destinations beyond the archive: each gets the event on its own queue once it is archived. */
  fanOut?: FanOut;
  dedupe: DedupeStore;
  /** Told of every error the archive raised (not of Redis or validation errors). */
  onSinkError?: (error: unknown) => void;
}

/** Group-message jobs queued before the catalog carry no command; theirs is implied. */
const IMPLIED_COMMAND: Partial<Record<JobKind, string>> = { 'group-message': GROUP_AFTER_SEND_MSG };

/**
 * One callback of any catalog command into the archive, exactly once in effect. Data no retry can
 * fix fails the job for good (UnrecoverableError); anything else throws as it is, so BullMQ
 * retries with backoff. The dedupe marker is written only after the archive committed: written
 * before, a failed commit would lose the event.
 */
export async function processCallback(kind: JobKind, data: unknown, deps: CallbackDeps): Promise<StoreOutcome> {
  const job = v.safeParse(CallbackJobDataSchema, data);
  if (!job.success) {
    throw new UnrecoverableError(`job data invalid: ${formatIssues(job.issues)}`);
  }
  const { sdkAppId, body, receivedAt } = job.output satisfies CallbackJobData;
  if (!deps.sdkAppIds.has(sdkAppId)) {
    throw new UnrecoverableError(`job for SDKAppID ${sdkAppId}, which this worker does not serve (TIM_SDK_APP_ID)`);
  }
  const definition = definitionFor(kind, job.output.command);
  const parsed = parseStoredBody(definition, sdkAppId, body);
  if (!parsed.ok) {
    throw new UnrecoverableError(parsed.problem);
  }

  if (await deps.dedupe.seen(parsed.key)) {
    return 'duplicate';
  }
  const event = {
    key: parsed.key,
    sdkAppId,
    command: definition.command,
    message: parsed.body,
    body,
    receivedAt: new Date(receivedAt),
    ...(job.output.source && { source: job.output.source }),
  };
  let outcome: StoreOutcome;
  try {
    outcome = await inSpan(
      'archive store',
      { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'imsync.kind': kind } },
      async (span) => {
        const stored = await deps.archive.store(kind, event);
        span.setAttribute('imsync.outcome', stored);
        return stored;
      },
    );
  } catch (error) {
    deps.onSinkError?.(error);
    if (error instanceof PermanentSinkError) {
      throw new UnrecoverableError(error.message);
    }
    throw error;
  }
  // After the archive, before the marker: a crash in between repeats the fan-out, whose job ids
  // make it a no-op. A duplicate is fanned out too: it may be the retry of a job that crashed
  // after its commit, before its fan-out.
  await deps.fanOut?.deliver(event, currentTraceparent());
  await deps.dedupe.mark(parsed.key);
  return outcome;
}

/** The catalog entry a job names; a command that is unknown or belongs to another kind fails it. */
function definitionFor(kind: JobKind, command: string | undefined): CallbackDefinition {
  const name = command ?? IMPLIED_COMMAND[kind];
  const definition = name === undefined ? undefined : CALLBACK_CATALOG[name];
  if (!definition || definition.job !== kind) {
    throw new UnrecoverableError(`job ${kind} names command ${JSON.stringify(name)}, which is not one of its kind`);
  }
  return definition;
}
