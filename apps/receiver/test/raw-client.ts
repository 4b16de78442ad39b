import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';
import { DISCARD_BUDGET } from '../src/body.js';
import { withTimeout } from './support.js';

// A minimal HTTP/1.1 client on a bare socket, so a test controls exactly when bytes are written
// and read, and sees resets and closes that fetch would hide.

export interface RawClient {
  socket: Socket;
  /** Resolves once the socket is closed, whoever closed it. */
  closed: Promise<void>;
  /** What the server sent, as latin1 text. */
  received(): string;
}

/** 64 KiB of spaces: the unit every upload below is written in. */
export const UPLOAD_CHUNK = Buffer.alloc(64 * 1024, 0x20);

/**
 * A client on a bare socket that writes `prefix` at once, then `trickle` one byte every `everyMs`
 * (the slowness is the point), and stops as soon as the socket closes. Destroyed when the test ends.
 * `allowHalfOpen`: it keeps its end open after the server closed its own, as a hostile client may.
 */
export async function rawClient(
  base: string,
  prefix = '',
  trickle = '',
  everyMs = 100,
  allowHalfOpen = false,
): Promise<RawClient> {
  const url = new URL(base);
  const socket = connect({ port: Number(url.port), host: url.hostname, allowHalfOpen });
  await once(socket, 'connect');
  let data = '';
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString('latin1');
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  if (prefix) {
    socket.write(prefix);
  }
  let sent = 0;
  const timer = trickle
    ? setInterval(() => {
        if (socket.destroyed || sent >= trickle.length) {
          clearInterval(timer);
          return;
        }
        socket.write(trickle.charAt(sent++));
      }, everyMs)
    : undefined;
  void closed.then(() => clearInterval(timer));
  onTestFinished(() => {
    clearInterval(timer);
    socket.destroy();
  });
  return { socket, closed, received: () => data };
}

/** True once `client` is closed, false if it is still open after `ms`. */
export async function closedWithin(client: RawClient, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([client.closed.then(() => true as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The status of what the server sent, or '' when it sent nothing. */
export function statusOf(received: string): string {
  return /^HTTP\/1\.[01] (\d{3}) /.exec(received)?.[1] ?? '';
}

/** Writes on `client`, resolving true once the kernel took the bytes, false once the socket is closed. */
export function writerOf(client: RawClient): (data: string | Buffer) => Promise<boolean> {
  return (data) =>
    Promise.race([
      new Promise<boolean>((resolve) => client.socket.write(data, (error) => resolve(!error))),
      client.closed.then(() => false),
    ]);
}

export interface RawResponse {
  status: string;
  /** The response head, header names lower-cased. */
  head: string;
  body: string;
}

/** The first complete (Content-Length framed) response on `client`, or undefined if it closes first. */
export function responseOf(client: RawClient): Promise<RawResponse | undefined> {
  return new Promise((resolve) => {
    const check = () => {
      const text = client.received();
      const end = text.indexOf('\r\n\r\n');
      const length = Number(/^content-length:\s*(\d+)/im.exec(text.slice(0, Math.max(end, 0)))?.[1]);
      if (end >= 0 && text.length >= end + 4 + length) {
        client.socket.off('data', check);
        const head = text.slice(0, end).toLowerCase();
        resolve({ status: statusOf(text), head, body: text.slice(end + 4, end + 4 + length) });
      }
    };
    client.socket.on('data', check);
    void client.closed.then(() => resolve(undefined));
    check();
  });
}

/**
 * Sends `head` and then `total` bytes of body before reading anything, as a blocking client does
 * (pausing `pauseMs` after each 64 KiB, as on a slow link), and returns the status of whatever
 * reply is there to read afterwards ('' when none).
 */
export async function uploadThenRead(
  base: string,
  head: string,
  total: number,
  pauseMs = 0,
): Promise<{ status: string; written: number }> {
  const client = await rawClient(base);
  client.socket.pause();
  const write = writerOf(client);
  let written = 0;
  if (await write(head)) {
    while (written < total && (await write(UPLOAD_CHUNK.subarray(0, Math.min(UPLOAD_CHUNK.length, total - written))))) {
      written += Math.min(UPLOAD_CHUNK.length, total - written);
      if (pauseMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }
  }
  client.socket.resume();
  // The connection is not kept alive: the server ends it after its reply; wait for that.
  await withTimeout(client.closed, DISCARD_BUDGET.ms + 5000, 'the end of the upload connection');
  return { status: statusOf(client.received()), written };
}
