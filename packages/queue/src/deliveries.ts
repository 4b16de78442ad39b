import { SdkAppIdSchema } from '@imsync/protocol';
import type { JobsOptions } from 'bullmq';
import * as v from 'valibot';
import { TraceparentSchema } from './jobs.js';
import type { RetentionPolicy } from './retry.js';

/** Every job on a destination's queue has this name: one event to deliver there. */
export const DELIVERY_JOB = 'delivery';

/** The backoff type delivery jobs ask for; delivery workers implement it with their schedule. */
export const DELIVERY_BACKOFF = 'delivery-schedule';

/**
 * One queue per destination: a destination that is slow, down or paused holds back only its own
 * queue, and shows in the dashboard as its own queue (waiting, failed, retry, pause).
 */
export function deliveryQueueName(destination: string): string {
  return `deliver-${destination}`;
}

/** A destination's name: its queue's name, log lines and metric labels (`a-z0-9-`). */
export const DESTINATION_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The set of destination names the workers run, for the dashboard and `imsync replay`. */
export function destinationsKey(prefix: string): string {
  return `${prefix}:destinations`;
}

/**
 * A hash, destination name → its settings as JSON (`DestinationSettings`): what `imsync replay`
 * needs to replay into a destination as its workers would fill it.
 */
export function destinationSettingsKey(prefix: string): string {
  return `${prefix}:destination-settings`;
}

export const DestinationSettingsSchema = v.object({
  /** Its subscription; absent: every command. */
  commands: v.optional(v.array(v.string())),
  /** Tries per delivery (the length of its retry schedule). */
  attempts: v.pipe(v.number(), v.integer(), v.minValue(1)),
});

export type DestinationSettings = v.InferOutput<typeof DestinationSettingsSchema>;

/**
 * One event to deliver: everything a destination sends, so a delivery needs neither the archive
 * nor the ingest job. `id` is the webhook-id: the event's key, the same on every retry and replay.
 */
export const DeliveryJobDataSchema = v.object({
  id: v.string(),
  key: v.string(),
  command: v.string(),
  sdkAppId: SdkAppIdSchema,
  /** When the receiver accepted the callback, ms since the epoch. */
  receivedAt: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** The callback body exactly as received. */
  body: v.string(),
  traceparent: v.optional(TraceparentSchema),
});

export type DeliveryJobData = v.InferOutput<typeof DeliveryJobDataSchema>;

/** What a delivery needs of an archived event (the worker's fan-out and `imsync replay` alike). */
export interface DeliverableEvent {
  /** The catalog key: the webhook-id every delivery of this event carries. */
  readonly key: string;
  readonly command: string;
  readonly sdkAppId: string;
  readonly receivedAt: Date;
  /** The callback body exactly as received. */
  readonly body: string;
}

/** The delivery job's data for an event, as JSON: one mapping, so a replay sends what the original did. */
export function deliveryJobData(event: DeliverableEvent, traceparent?: string): string {
  const data: DeliveryJobData = {
    id: event.key,
    key: event.key,
    command: event.command,
    sdkAppId: event.sdkAppId,
    receivedAt: event.receivedAt.getTime(),
    body: event.body,
    ...(traceparent !== undefined && { traceparent }),
  };
  return JSON.stringify(data);
}

/**
 * The job id of a replayed delivery: not the event key, which the original delivery's job still
 * holds for an hour after it completed (a replay under that id would be added as nothing). Within
 * one run it is stable, so a run resumed with its run id skips the jobs it already added.
 */
export function replayJobId(key: string, runId: string): string {
  return `${key}-r${runId}`;
}

/**
 * Completed deliveries are kept for an hour (at most 10,000): long enough that a fan-out repeated
 * after a worker crash finds the job id still there and adds nothing. Failed ones wait 14 days for
 * someone to look and retry: the failed set is the destination's dead-letter queue.
 */
const DELIVERY_RETENTION: RetentionPolicy = {
  completedAgeSeconds: 3600,
  completedCount: 10_000,
  failedAgeSeconds: 14 * 24 * 3600,
  failedCount: 100_000,
};

export function deliveryJobOptions(attempts: number, retention: RetentionPolicy = DELIVERY_RETENTION): JobsOptions {
  return {
    attempts,
    backoff: { type: DELIVERY_BACKOFF },
    removeOnComplete: { age: retention.completedAgeSeconds, count: retention.completedCount },
    removeOnFail: { age: retention.failedAgeSeconds, count: retention.failedCount },
  };
}
