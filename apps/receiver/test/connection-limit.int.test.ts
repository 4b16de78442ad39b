import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { expect } from 'vitest';
import { type RawClient, rawClient } from './raw-client.js';
import {
  allJobs,
  callbackUrl,
  messageBody,
  OK_REPLY,
  test as receiverTest,
  serveReceiver,
  withTimeout,
} from './support.js';

// MAX_CONNECTIONS: each open socket costs memory and a file descriptor whatever it sends, so past
// the limit new connections are closed at once; those already open keep working, and once some
// close, new ones are served again.

const LIMIT = 16;

// Long timeouts, so nothing but the limit closes a connection while a test runs.
const test = receiverTest
  .extend('server', async ({ receiver }, { onCleanup }) =>
    serveReceiver(receiver, onCleanup, { maxConnections: LIMIT, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 }),
  )
  .extend('base', async ({ server }) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`);

/** Opens `count` silent connections and resolves once the server has taken every one. */
async function openConnections(server: Server, base: string, count: number) {
  const taken: Socket[] = [];
  const allTaken = new Promise<void>((resolve) => {
    const onConnection = (socket: Socket) => {
      taken.push(socket);
      if (taken.length === count) {
        server.off('connection', onConnection);
        resolve();
      }
    };
    server.on('connection', onConnection);
  });
  const clients = await Promise.all(Array.from({ length: count }, () => rawClient(base)));
  await withTimeout(allTaken, 5000, `the server taking ${count} connections`);
  return { clients, serverSides: taken };
}

/** One signed callback with a message of its own, on a connection of its own. */
async function callback(base: string, msgSeq: number): Promise<{ status?: number; text: string }> {
  const req = httpRequest(new URL(callbackUrl({}, base)), { method: 'POST', agent: false });
  req.end(messageBody({ MsgSeq: msgSeq }));
  const [res] = (await withTimeout(once(req, 'response'), 5000, 'a callback reply')) as [IncomingMessage];
  let text = '';
  for await (const chunk of res) {
    text += String(chunk);
  }
  return { status: res.statusCode, text };
}

/** A signed callback on an already open raw connection; resolves once its OK reply arrived. */
function callbackOn(client: RawClient, base: string, msgSeq: number): Promise<void> {
  const url = new URL(callbackUrl({}, base));
  const body = messageBody({ MsgSeq: msgSeq });
  const replied = new Promise<void>((resolve) => {
    client.socket.on('data', () => {
      if (client.received().includes(OK_REPLY)) {
        resolve();
      }
    });
  });
  client.socket.write(
    `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  return replied;
}

/** Resolves once `count` of `sockets` have closed, whichever they are. */
function closes(sockets: Socket[], count: number): Promise<void> {
  return new Promise((resolve) => {
    let closed = 0;
    for (const socket of sockets) {
      socket.once('close', () => {
        closed += 1;
        if (closed === count) {
          resolve();
        }
      });
    }
  });
}

test(`connection ${LIMIT + 1} is dropped while ${LIMIT} stay open; once some close, callbacks are served again`, async ({
  receiver,
  server,
  base,
}) => {
  const { clients, serverSides } = await openConnections(server, base, LIMIT);
  const dropped = once(server, 'drop');
  const extra = await rawClient(base);
  await withTimeout(dropped, 5000, `connection ${LIMIT + 1} dropped`);
  await withTimeout(extra.closed, 5000, `connection ${LIMIT + 1} closed`);
  // A callback now is dropped just the same: its connection is closed without a reply.
  await expect(callback(base, 1)).rejects.toThrow(/socket hang up|ECONNRESET/);

  // The open ones were left alone, and one of them can still carry a callback.
  expect(serverSides.filter((socket) => socket.destroyed)).toEqual([]);
  const [first, ...rest] = clients as [RawClient, ...RawClient[]];
  await withTimeout(callbackOn(first, base, 2), 5000, 'the reply on an open connection');

  // Four leave; once the server has seen them go, new connections are served again.
  const fourClosed = closes(serverSides, 4);
  for (const client of rest.slice(0, 4)) {
    client.socket.destroy();
  }
  await withTimeout(fourClosed, 5000, 'the server seeing four connections close');
  expect(await callback(base, 3)).toEqual({ status: 200, text: OK_REPLY });
  expect((await allJobs(receiver.queue)).map((job) => JSON.parse(job.data.body).MsgSeq).sort()).toEqual([2, 3]);
});
