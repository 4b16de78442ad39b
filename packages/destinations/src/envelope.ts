import type { DeliveryEvent } from './destination.js';

/**
 * The JSON body POSTed to HTTP destinations, one event per request:
 *
 * ```json
 * {
 *   "type": "Group.CallbackAfterSendMsg",
 *   "id": "gm-0f3c…",
 *   "key": "gm-0f3c…",
 *   "sdkAppId": "1400000000",
 *   "receivedAt": "2026-12-01T08:30:00.000Z",
 *   "data": { "CallbackCommand": "Group.CallbackAfterSendMsg", … }
 * }
 * ```
 *
 * - `type`: Tencent's `CallbackCommand`, one of the commands imsync stores.
 * - `id`: the `webhook-id` header's value: the same on every retry and replay of the event, so a
 *   receiver drops what it has already seen by this field.
 * - `key`: the event's identity in the archive (what imsync dedupes on).
 * - `sdkAppId`: the Tencent IM app the callback came from, as a string.
 * - `receivedAt`: when imsync accepted the callback (ISO 8601, UTC, milliseconds), not when it is
 *   delivered.
 * - `data`: Tencent's callback body verbatim: the same text, key order and number spelling imsync
 *   archived (ADR 0003), never re-serialised, so a large integer or a `1.0` arrives as Tencent
 *   sent it. Fields imsync does not know yet are there too.
 *
 * Fields may be added later; a receiver should ignore the ones it does not know.
 */
export function buildEnvelope(event: DeliveryEvent): string {
  // Concatenated, not JSON.stringify'd: `data` must be the body's own text. The body is JSON text
  // (the archive validated it), so splicing it in keeps the whole envelope valid JSON.
  return (
    `{"type":${JSON.stringify(event.command)},"id":${JSON.stringify(event.id)},` +
    `"key":${JSON.stringify(event.key)},"sdkAppId":${JSON.stringify(event.sdkAppId)},` +
    `"receivedAt":${JSON.stringify(event.receivedAt.toISOString())},"data":${event.body}}`
  );
}
