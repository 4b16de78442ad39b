import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

export type BodyResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: 'too_large' | 'incomplete' };

/**
 * Reads the raw body, stopping as soon as it passes `limit` bytes so a huge upload costs no
 * memory. The rest of an oversized upload is read and discarded (here, then by @hono/node-server's
 * drain) instead of resetting the connection, so the client reliably gets its 413.
 */
export function readBody(c: Context, limit: number): Promise<BodyResult> {
  const declared = Number(c.req.header('content-length'));
  if (declared > limit) {
    return Promise.resolve({ ok: false, reason: 'too_large' });
  }
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
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
        // Keep the stream flowing with no listener: the rest is read and dropped.
        finish({ ok: false, reason: 'too_large' });
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
