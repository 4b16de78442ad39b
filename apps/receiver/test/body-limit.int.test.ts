import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { loadFixture } from '@imsync/fixtures';
import type { FailReply } from '@imsync/protocol';
import { waitFor } from '@imsync/testing';
import { expect } from 'vitest';
import {
  allJobs,
  callbackUrl,
  jobCount,
  OK_REPLY,
  test as receiverTest,
  serveReceiver,
  type TestReceiver,
} from './support.js';

// The Node-stream body path, through a real @hono/node-server: an oversized upload must be
// answered 413 (not a reset connection) however the client sends it, and the server must stay
// usable. A client that never sees the 413 cannot tell "too large" from "receiver down".

const MIB = 1024 * 1024;
const UPLOAD = 5 * MIB;
const CHUNK = 64 * 1024;

// Each test's receiver has the 1 MiB limit the names speak of (production's default, spelled out)
// and is served on 127.0.0.1 as `server`, at `base`. (The only `test` here: another would keep a
// Redis of its own.)
const test = receiverTest
  .extend('receiverOptions', { BODY_LIMIT_BYTES: MIB })
  .extend('server', async ({ receiver }, { onCleanup }) => serveReceiver(receiver, onCleanup))
  .extend('base', async ({ server }) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`);

function expectTooLarge(res: { status: number; body: string }) {
  expect({ status: res.status, body: res.body.slice(0, 200) }).toMatchObject({ status: 413 });
  expect(JSON.parse(res.body) as FailReply).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 41301 });
}

/** A valid callback on a connection of its own (no keep-alive pool): the server still serves. */
async function expectStillServes(receiver: TestReceiver, base: string) {
  const fixture = loadFixture('text-public');
  const url = new URL(callbackUrl({}, base));
  const req = httpRequest(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } });
  req.end(fixture.text);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let text = '';
  for await (const chunk of res) {
    text += String(chunk);
  }
  expect({ status: res.statusCode, text }).toEqual({ status: 200, text: OK_REPLY });
  expect((await allJobs(receiver.queue)).map((job) => job.data.body)).toEqual([fixture.text]);
}

test('a valid fixture through the real server is acknowledged and enqueued', async ({ receiver, base }) => {
  const fixture = loadFixture('relay-merged');
  const res = await fetch(callbackUrl({}, base), { method: 'POST', body: fixture.text });
  expect({ status: res.status, text: await res.text() }).toEqual({ status: 200, text: OK_REPLY });
  expect(res.headers.get('content-type')).toBe('application/json');
  expect((await allJobs(receiver.queue)).map((job) => job.data.body)).toEqual([fixture.text]);
});

test('fetch: 5 MiB with Content-Length against a 1 MiB limit gets its 413', async ({ receiver, base }) => {
  const res = await fetch(callbackUrl({}, base), { method: 'POST', body: Buffer.alloc(UPLOAD, 0x20) });
  expectTooLarge({ status: res.status, body: await res.text() });
  expect(await jobCount(receiver.queue)).toBe(0);
  await expectStillServes(receiver, base);
});

test('fetch: 5 MiB chunked (no Content-Length) against a 1 MiB limit gets its 413', async ({ receiver, base }) => {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= UPLOAD) {
        controller.close();
        return;
      }
      sent += CHUNK;
      controller.enqueue(new Uint8Array(CHUNK).fill(0x20));
    },
  });
  const res = await fetch(callbackUrl({}, base), { method: 'POST', body, duplex: 'half' } as RequestInit);
  expectTooLarge({ status: res.status, body: await res.text() });
  expect(await jobCount(receiver.queue)).toBe(0);
  await expectStillServes(receiver, base);
});

const rawCases: [string, { chunked: boolean; readWhileWriting: boolean }][] = [
  ['Content-Length, reading while writing', { chunked: false, readWhileWriting: true }],
  ['chunked, reading while writing', { chunked: true, readWhileWriting: true }],
  ['Content-Length, reading only after writing it all', { chunked: false, readWhileWriting: false }],
  ['chunked, reading only after writing it all', { chunked: true, readWhileWriting: false }],
];

test.for(rawCases)('raw socket: 5 MiB in 64 KiB chunks, %s, gets its 413', async ([, options], { receiver, base }) => {
  const url = new URL(callbackUrl({}, base));
  const result = await rawUpload(url, { total: UPLOAD, chunkSize: CHUNK, ...options });
  expectTooLarge(result);
  if (!options.readWhileWriting) {
    // Everything was written before a byte was read: the server drained the upload, not reset it.
    expect(result.writeError).toBeUndefined();
    expect(result.bytesWritten).toBe(UPLOAD);
  }
  expect(await jobCount(receiver.queue)).toBe(0);
  expect(receiver.logLines.filter((line) => line.msg === 'callback')).toMatchObject([{ reason: 'body_too_large' }]);
  await expectStillServes(receiver, base);
});

// @hono/node-server alone would drain an unread upload for only 500 ms after the reply; the
// receiver's own discard budget lets a slow client that reads only after writing get its 413.
test('raw socket: a slow client (≈3 MB/s) that reads only after writing still gets its 413', async ({ base }) => {
  const url = new URL(callbackUrl({}, base));
  const options = { total: UPLOAD, chunkSize: CHUNK, chunked: false, readWhileWriting: false, pauseMs: 20 };
  expectTooLarge(await rawUpload(url, options));
});

test('a client that disconnects mid-body is logged as body_incomplete and nothing is enqueued', async ({
  receiver,
  server,
  base,
}) => {
  const url = new URL(callbackUrl({}, base));
  const socket = await rawConnect(url);
  const requested = once(server, 'request');
  socket.write(`POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: 1000\r\n\r\n`);
  socket.write(loadFixture('text-public').text.slice(0, 100));
  await requested;
  socket.destroy();
  const line = await waitFor(() => receiver.logLines.find((each) => each.msg === 'callback'), {
    timeoutMs: 5000,
    what: 'the callback log line',
  });
  expect(line).toMatchObject({ outcome: 'rejected', reason: 'body_incomplete', status: 400 });
  expect(await jobCount(receiver.queue)).toBe(0);
  await expectStillServes(receiver, base);
});

// A minimal HTTP/1.1 client on a bare socket, so the test controls exactly when bytes are
// written and read (fetch hides both).

interface RawResponse {
  status: number;
  body: string;
  bytesWritten: number;
  writeError?: string;
}

async function rawConnect(url: URL): Promise<Socket> {
  const socket = connect(Number(url.port), url.hostname);
  await once(socket, 'connect');
  return socket;
}

/** Resolves with the first response on `socket` (Content-Length framed), rejects if it closes first. */
function readResponse(socket: Socket): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) {
        return;
      }
      const head = buffer.subarray(0, end).toString('latin1');
      const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1]);
      if (buffer.length >= end + 4 + length) {
        const status = Number(head.split(' ')[1]);
        resolve({ status, body: buffer.subarray(end + 4, end + 4 + length).toString('utf8') });
      }
    });
    socket.on('close', () => reject(new Error(`closed before a full response: ${buffer.toString('latin1')}`)));
  });
}

/** Uploads `total` bytes in `chunkSize` writes, reading the reply meanwhile or only afterwards. */
async function rawUpload(
  url: URL,
  options: { total: number; chunkSize: number; chunked: boolean; readWhileWriting: boolean; pauseMs?: number },
): Promise<RawResponse> {
  const socket = await rawConnect(url);
  let writeError: string | undefined;
  socket.on('error', (error) => {
    writeError ??= error.message;
  });
  if (!options.readWhileWriting) {
    socket.pause();
  }
  const response = readResponse(socket);
  response.catch(() => {});
  // Resolves true once the kernel took the bytes, false once the server has closed the socket.
  let closed = false;
  const pending = new Set<(ok: boolean) => void>();
  socket.on('close', () => {
    closed = true;
    for (const resolve of pending) {
      resolve(false);
    }
  });
  const write = (data: Buffer | string) =>
    new Promise<boolean>((resolve) => {
      if (closed) {
        resolve(false);
        return;
      }
      pending.add(resolve);
      socket.write(data, (error) => {
        pending.delete(resolve);
        resolve(!error);
      });
    });
  const framing = options.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${options.total}`;
  let bytesWritten = 0;
  if (await write(`POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n${framing}\r\n\r\n`)) {
    const data = Buffer.alloc(options.chunkSize, 0x20);
    const frame = options.chunked
      ? Buffer.concat([Buffer.from(`${options.chunkSize.toString(16)}\r\n`), data, Buffer.from('\r\n')])
      : data;
    while (bytesWritten < options.total && (await write(frame))) {
      bytesWritten += options.chunkSize;
      if (options.pauseMs) {
        await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
      }
    }
    if (options.chunked && bytesWritten === options.total) {
      await write('0\r\n\r\n');
    }
  }
  socket.resume();
  try {
    return { ...(await response), bytesWritten, writeError };
  } finally {
    socket.destroy();
  }
}
