import type { DeliveryEvent, DeliveryOutcome, Destination } from './destination.js';
import { buildEnvelope } from './envelope.js';
import { parseRetryAfter } from './retry-after.js';
import { createSigner } from './sign.js';

export const DEFAULT_HTTP_TIMEOUT_MS = 15_000;
/** Enough for any error message worth logging; a destination never makes us buffer more. */
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
/** How much of a response body a failure's reason quotes (the rest is read, up to the cap, and dropped). */
const EXCERPT_BYTES = 200;

export interface HttpDestinationOptions {
  readonly name: string;
  /** Where to POST: http(s), no credentials in it (fetch refuses them; put them in the path or use the signature). */
  readonly url: string;
  /** `whsec_…` secrets; each signs every request (several during a rotation). */
  readonly secrets: readonly string[];
  /** For the whole attempt: connecting, sending, the response's headers and the body read. */
  readonly timeoutMs?: number;
  /** The commands it subscribes to; all of them when absent. */
  readonly commands?: Iterable<string>;
  /** Response body bytes read at most; the rest is cancelled unread. */
  readonly maxResponseBytes?: number;
  /**
   * Node's global fetch unless given: e.g. undici's fetch with a dispatcher of its own, for a
   * proxy or a connection pool per destination.
   */
  readonly fetch?: typeof fetch;
  /** The request's `webhook-timestamp` and the origin of an HTTP-date `Retry-After`. */
  readonly clock?: () => Date;
}

/** `webhook-id` goes in a header: printable ASCII only, or fetch would throw on every attempt. */
const HEADER_VALUE = /^[\x21-\x7e]{1,255}$/;

/** Why the request's own controller aborted, told apart from the caller's signal. */
class AttemptTimeout extends Error {
  override readonly name = 'AttemptTimeout';
}

/**
 * A destination that POSTs each event's envelope (see buildEnvelope) to one URL, signed the
 * Standard Webhooks way. It uses Node's fetch: no dependency, `redirect: 'manual'` and an
 * AbortSignal cover what it needs, and undici's fetch can be passed for a custom dispatcher.
 * Redirects are not followed: a 3xx is `rejected` (the configured URL must be the final one; a
 * signed request is not replayed to a host nobody configured, and retrying would not change it).
 * Throws at creation on a bad URL or secret; `deliver` never throws.
 */
export function createHttpDestination(options: HttpDestinationOptions): Destination {
  const url = new URL(options.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`destination ${options.name}: the URL must be http(s)`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(`destination ${options.name}: the URL must not carry credentials`);
  }
  const sign = createSigner(options.secrets);
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const doFetch = options.fetch ?? fetch;
  const clock = options.clock ?? (() => new Date());

  async function deliver(event: DeliveryEvent, signal: AbortSignal): Promise<DeliveryOutcome> {
    if (signal.aborted) {
      return { kind: 'retry', reason: 'aborted before sending' };
    }
    if (!HEADER_VALUE.test(event.id)) {
      return {
        kind: 'rejected',
        reason: 'the event id is not a valid webhook-id (printable ASCII, 1 to 255 characters)',
      };
    }
    let payload: string;
    try {
      payload = buildEnvelope(event);
    } catch (error) {
      return { kind: 'rejected', reason: `cannot build the envelope: ${errorText(error)}` };
    }
    // One controller for the attempt, fed by our timer and the caller's signal. (AbortSignal.any
    // would tie a composite to the caller's long-lived signal on every request; this lets go.)
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new AttemptTimeout()), timeoutMs);
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await doFetch(url, {
        method: 'POST',
        headers: {
          ...sign(event.id, clock(), payload),
          'content-type': 'application/json',
          'user-agent': 'imsync',
        },
        body: payload,
        redirect: 'manual',
        signal: controller.signal,
      });
      // Read even on success: a body read to its end lets the connection be reused.
      const excerpt = await readExcerpt(response, maxResponseBytes);
      return classifyResponse(response, excerpt, clock(), url);
    } catch (error) {
      if (controller.signal.reason instanceof AttemptTimeout) {
        return { kind: 'retry', reason: `timed out after ${timeoutMs} ms` };
      }
      if (controller.signal.aborted) {
        return { kind: 'retry', reason: 'aborted by the caller' };
      }
      return { kind: 'retry', reason: `network error: ${errorText(error)}` };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  return {
    name: options.name,
    ...(options.commands === undefined ? {} : { commands: new Set(options.commands) }),
    deliver,
  };
}

/**
 * The rules: 2xx delivered; 429/503 with a usable Retry-After wait that long for free;
 * 408, 429, 5xx retry on the schedule; 410 gone; 3xx (not followed) and other 4xx rejected.
 */
function classifyResponse(
  response: Pick<Response, 'status' | 'headers'>,
  excerpt: string,
  now: Date,
  url: URL,
): DeliveryOutcome {
  const { status } = response;
  const said = excerpt === '' ? '' : `: ${excerpt}`;
  if (status >= 200 && status < 300) {
    return { kind: 'delivered', status };
  }
  if (status === 429 || status === 503) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now);
    if (retryAfterMs !== undefined) {
      return { kind: 'retry', reason: `HTTP ${status}, retry after ${retryAfterMs} ms${said}`, retryAfterMs };
    }
    return { kind: 'retry', reason: `HTTP ${status}${said}` };
  }
  if (status === 408 || status >= 500) {
    return { kind: 'retry', reason: `HTTP ${status}${said}` };
  }
  if (status === 410) {
    return { kind: 'gone', reason: `HTTP 410 Gone: the destination asks not to be sent events any more${said}` };
  }
  if (status >= 300 && status < 400) {
    return {
      kind: 'rejected',
      reason: `HTTP ${status}: redirects are not followed${locationText(response.headers.get('location'), url)}`,
    };
  }
  if (status >= 400) {
    return { kind: 'rejected', reason: `HTTP ${status}${said}` };
  }
  // 1xx never reaches here (fetch handles them); anything else is no answer we understand.
  return { kind: 'retry', reason: `unexpected HTTP status ${status}` };
}

/**
 * Reads at most `cap` bytes of the body, then cancels the rest; returns the first bytes as text
 * for a failure's reason. A body cut short (a timeout, a reset) is not an error here: the status
 * has already said what happened.
 */
async function readExcerpt(response: Response, cap: number): Promise<string> {
  if (!response.body) {
    return '';
  }
  const reader = response.body.getReader();
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let read = 0;
  try {
    while (read < cap) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      read += value.byteLength;
      if (keptBytes < EXCERPT_BYTES) {
        kept.push(value.subarray(0, EXCERPT_BYTES - keptBytes));
        keptBytes += Math.min(value.byteLength, EXCERPT_BYTES - keptBytes);
      }
    }
    if (read >= cap) {
      // Not awaited: dropping a stream that never ends must not wait for it.
      reader.cancel().catch(() => {});
    }
  } catch {
    // Cut short: keep what was read.
  }
  return new TextDecoder().decode(Buffer.concat(kept)).replace(/\s+/g, ' ').trim();
}

/** Where a redirect pointed, without its query (which may carry a token). */
function locationText(location: string | null, base: URL): string {
  if (location === null) {
    return '';
  }
  try {
    const target = new URL(location, base);
    return ` (Location: ${target.origin}${target.pathname})`;
  } catch {
    return ' (Location: not a URL)';
  }
}

/** fetch's "fetch failed" says nothing: the cause has the code (ECONNREFUSED, ENOTFOUND, …). */
function errorText(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const message = cause.message || cause.name;
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return error.message;
}
