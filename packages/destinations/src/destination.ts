/**
 * One archived event on its way to one destination. The same object goes to every destination
 * the event is for; nothing in it depends on the destination or on the attempt.
 */
export interface DeliveryEvent {
  /**
   * The delivery's identity (`webhook-id` for HTTP): the same for this event on every attempt,
   * every replay and every destination, so a receiver that saw it once can drop a redelivery. The
   * event key is a good one (`gm-…`: printable ASCII, no spaces); an id per job or per attempt
   * is not, since it would defeat that.
   */
  readonly id: string;
  /** The event's key from the callback catalog. */
  readonly key: string;
  /** Tencent's `CallbackCommand`, one of the catalog's (`SUPPORTED_COMMANDS`). */
  readonly command: string;
  readonly sdkAppId: string;
  /** When the receiver accepted the callback (not when it is delivered). */
  readonly receivedAt: Date;
  /** Tencent's body exactly as received (JSON text, validated by the archive): never re-serialised. */
  readonly body: string;
}

/**
 * What one delivery attempt came to. The caller (the delivery queue) acts on it; a destination
 * never retries by itself, so the schedule and the counts stay in one place.
 */
export type DeliveryOutcome =
  /** Done: the destination has the event. `status` is the HTTP status, where there is one. */
  | { readonly kind: 'delivered'; readonly status?: number }
  /**
   * A bad moment, not a bad event: try again later. Without `retryAfterMs` the attempt counts and
   * the next one follows the retry schedule. With it (only for a 429 or 503 that said when, via
   * `Retry-After`), wait that long and try again without spending an attempt: the destination
   * asked for the pause, it did not fail.
   */
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  /** The destination asks never to be sent anything again (HTTP 410): pause it until someone looks. */
  | { readonly kind: 'gone'; readonly reason: string }
  /** The destination refused this event for good (another 4xx, a redirect): retrying will not help. */
  | { readonly kind: 'rejected'; readonly reason: string };

/**
 * Somewhere archived events go after the archive committed them: a webhook, a file, another
 * database. Implementations turn every failure they can name into an outcome: network errors and
 * timeouts are `retry` outcomes, never throws. A `deliver` that throws anyway (a bug, an error
 * nobody foresaw) is treated by the caller as a `retry` that spends an attempt, so a throw never
 * loses an event but never fails it for good either.
 */
export interface Destination {
  /** The configured name (`a-z0-9-`): its queue, its log lines and its metric labels. */
  readonly name: string;
  /** The commands it subscribes to; absent means every command of the catalog. */
  readonly commands?: ReadonlySet<string>;
  /**
   * Delivers one event, once (no retries inside: see DeliveryOutcome). `signal` aborts when the
   * caller stops waiting (shutdown, its own deadline); an aborted delivery resolves as `retry`
   * soon after. It must be safe to deliver the same event again: delivery is at least once.
   */
  deliver(event: DeliveryEvent, signal: AbortSignal): Promise<DeliveryOutcome>;
  /** Releases what it holds (files, connections) once no delivery is in flight; called once, at shutdown. */
  close?(): Promise<void>;
}

/**
 * What a custom destination module exports as `createDestination`: called once at start with the
 * `options` object of its config entry (as written there, unchecked: the module checks it) and
 * its configured name. Throwing stops the start, with the error's message.
 */
export type CreateDestination = (
  options: Readonly<Record<string, unknown>>,
  context: { readonly name: string },
) => Destination | Promise<Destination>;
