// @ts-check
// An example custom destination: appends each event to a file as one JSON line (NDJSON).
//
// Plain JavaScript on purpose: the deployed worker runs plain Node, which imports a .js or .mjs
// ES module as it is. Copy it, change it, and list it in IMSYNC_SINKS_FILE:
//
//   { "destinations": [
//       { "name": "files", "type": "module", "module": "./ndjson-file.js",
//         "options": { "path": "/var/lib/imsync/events.ndjson" } } ] }
//
// (`module` is relative to the config file; `options` is given to createDestination as it is.)
// Delivery is at least once (a retry after a crash, a replay): a reader dedupes lines by `id`.
import { open } from 'node:fs/promises';

/**
 * @typedef {import('../src/destination.js').Destination} Destination
 * @typedef {import('../src/destination.js').DeliveryEvent} DeliveryEvent
 * @typedef {import('../src/destination.js').DeliveryOutcome} DeliveryOutcome
 */

/**
 * Opens the file once (appending; created if missing) and keeps it open until close().
 *
 * @param {Readonly<Record<string, unknown>>} options `{ path: string }`
 * @param {{ readonly name: string }} context
 * @returns {Promise<Destination>}
 */
export async function createDestination(options, context) {
  if (typeof options.path !== 'string' || options.path === '') {
    throw new Error('options.path must be the file to append to');
  }
  const file = await open(options.path, 'a');
  // One write at a time, so that two deliveries in flight never interleave their lines.
  let last = Promise.resolve();

  return {
    name: context.name,
    /**
     * @param {DeliveryEvent} event
     * @returns {Promise<DeliveryOutcome>}
     */
    async deliver(event) {
      // JSON.stringify never writes a raw newline, so each event is exactly one line. The body goes
      // in as a string, so the line keeps Tencent's text exactly (it may itself span lines).
      const line = `${JSON.stringify({
        id: event.id,
        key: event.key,
        type: event.command,
        sdkAppId: event.sdkAppId,
        receivedAt: event.receivedAt.toISOString(),
        body: event.body,
      })}\n`;
      const write = last.then(async () => {
        await file.appendFile(line, 'utf8');
        // Delivered means on disk: a crash after this answer must not lose the line.
        await file.datasync();
      });
      last = write.catch(() => {});
      // A failed write (a full disk) throws: the caller treats it as a retry.
      await write;
      return { kind: 'delivered' };
    },
    async close() {
      await last;
      await file.close();
    },
  };
}
