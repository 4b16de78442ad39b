import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

export type BodyResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: 'too_large' | 'incomplete' };

/**
 * How much of an oversized upload is read and thrown away after the 413, like nginx's lingering
 * close. Closing at once would reset the connection, and a client still writing its body would
 * lose the 413 with it. Past the budget the socket is closed anyway.
 */
export const DISCARD_BUDGET = { bytes: 64 * 1024 * 1024, ms: 10_000 };

/**
 * Reads the raw body, stopping as soon as it passes `limit` bytes so a huge upload costs no
 * memory; the rest is discarded (`DISCARD_BUDGET`) so the client reliably gets its 413.
 */
export function readBody(c: Context, limit: number): Promise<BodyResult> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (Number(c.req.header('content-length')) > limit) {
    if (incoming) {
      discardRest(incoming);
    }
    return Promise.resolve({ ok: false, reason: 'too_large' });
  }
  return incoming ? readIncoming(incoming, limit) : readWebStream(c.req.raw, limit);
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
        discardRest(incoming);
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

function discardRest(incoming: IncomingMessage): void {
  // A connection not kept alive (Connection: close, HTTP/1.0) is destroyed by Node as soon as the
  // reply is written; a client still writing its body then gets a reset instead of its 413. Close
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
  const timer = setTimeout(close, DISCARD_BUDGET.ms);
  timer.unref();
  incoming.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > DISCARD_BUDGET.bytes) {
      close();
    }
  });
  incoming.once('end', () => clearTimeout(timer));
  incoming.once('close', () => clearTimeout(timer));
  incoming.resume();
}
