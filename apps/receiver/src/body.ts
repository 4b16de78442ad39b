import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

export type BodyResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: 'too_large' | 'incomplete' };

/** How much of an unwanted upload is read and thrown away, at most, before the socket is closed. */
export interface DiscardBudget {
  bytes: number;
  ms: number;
}

/**
 * How much of an oversized upload is read and thrown away after the 413, like nginx's lingering
 * close. Closing at once would reset the connection, and a client still writing its body would
 * lose the 413 with it. Past the budget the socket is closed anyway. Generous, because only a
 * caller that passed the signature check gets this far (unless TIM_CALLBACK_AUTH=off).
 */
export const DISCARD_BUDGET: DiscardBudget = { bytes: 64 * 1024 * 1024, ms: 10_000 };

/**
 * The same for a request refused before its body was read (wrong app, bad signature, wrong
 * method or path): anyone can send those, so they get no more than a legitimate body's worth.
 */
export function unreadBudget(bodyLimitBytes: number): DiscardBudget {
  return { bytes: bodyLimitBytes, ms: 1000 };
}

/**
 * For a refusal decided before the body was read: the connection closes after the reply, and
 * what the client still sends is thrown away within `budget`, never buffered. The client thus
 * gets its 401/403 instead of a reset, and cannot keep the socket by trickling a body.
 */
export function refuseUnreadBody(c: Context, budget: DiscardBudget): void {
  c.header('connection', 'close');
  const incoming = incomingOf(c);
  if (!incoming) {
    return;
  }
  discardRest(incoming, budget);
  // A client that got its reply may still keep its end open: the socket goes with the budget.
  const socket = incoming.socket;
  const timer = setTimeout(() => socket.destroy(), budget.ms);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Reads the raw body, stopping as soon as it passes `limit` bytes so a huge upload costs no
 * memory; the rest is discarded (`DISCARD_BUDGET`) so the client reliably gets its 413.
 */
export function readBody(c: Context, limit: number): Promise<BodyResult> {
  const incoming = incomingOf(c);
  if (Number(c.req.header('content-length')) > limit) {
    if (incoming) {
      discardRest(incoming, DISCARD_BUDGET);
    }
    return Promise.resolve({ ok: false, reason: 'too_large' });
  }
  return incoming ? readIncoming(incoming, limit) : readWebStream(c.req.raw, limit);
}

function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

// On @hono/node-server: straight from the Node stream, no web-stream layer in between.
function readIncoming(incoming: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyResult) => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onAbort);
      incoming.off('close', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        finish({ ok: false, reason: 'too_large' });
        discardRest(incoming, DISCARD_BUDGET);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () =>
      finish({ ok: true, bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) });
    const onAbort = () => finish({ ok: false, reason: 'incomplete' });
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onAbort);
    incoming.on('close', onAbort);
  });
}

// Anywhere else (tests through app.request, other runtimes): the web stream.
async function readWebStream(request: Request, limit: number): Promise<BodyResult> {
  if (!request.body) {
    return { ok: true, bytes: new Uint8Array(0) };
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        return { ok: false, reason: 'too_large' };
      }
      chunks.push(value);
    }
  } catch {
    return { ok: false, reason: 'incomplete' };
  }
  return { ok: true, bytes: Buffer.concat(chunks, size) };
}

function discardRest(incoming: IncomingMessage, budget: DiscardBudget): void {
  // A connection not kept alive (Connection: close, HTTP/1.0) is destroyed by Node as soon as the
  // reply is written; a client still writing its body then gets a reset instead of its reply. Close
  // only our side (FIN) and keep reading until the client is done or the budget runs out.
  const socket = incoming.socket as (typeof incoming.socket & { destroySoon?: () => void }) | undefined;
  if (socket) {
    socket.destroySoon = () => socket.end();
  }
  let bytes = 0;
  const close = () => {
    clearTimeout(timer);
    incoming.socket?.destroy();
  };
  const timer = setTimeout(close, budget.ms);
  timer.unref();
  incoming.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > budget.bytes) {
      close();
    }
  });
  incoming.once('end', () => clearTimeout(timer));
  incoming.once('close', () => clearTimeout(timer));
  incoming.resume();
}
