import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import type { FailReply } from '@imsync/protocol';
import { expect } from 'vitest';
import type { RejectionReason } from '../src/errors.js';
import { type RawClient, rawClient, responseOf, UPLOAD_CHUNK, uploadThenRead, writerOf } from './raw-client.js';
import { callbackUrl, jobCount, messageBody, test as receiverTest, serveReceiver, withTimeout } from './support.js';

// A request the query alone refuses (wrong app, no or bad signature, wrong method or path) is
// answered before a byte of its body is read: anyone can send those, so they must cost no body
// buffer and hold no socket. The connection then closes, and what the client still sends is
// thrown away within a small budget (BODY_LIMIT_BYTES, 1 s), so the client gets its 401/403
// instead of a reset.

const MIB = 1024 * 1024;
/** The budget for draining an unread body (`unreadBudget`), and how late the close may come. */
const UNREAD_MS = 1000;
const CLOSE_SLACK_MS = 1000;

// Production's 1 MiB body limit and request timeouts: a receiver that waited for the body would
// answer only after the 15 s request timeout, far past every deadline below.
const test = receiverTest
  .extend('receiverOptions', { BODY_LIMIT_BYTES: MIB })
  .extend('server', async ({ receiver }, { onCleanup }) => serveReceiver(receiver, onCleanup))
  .extend('base', async ({ server }) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`);

/** Request headers for a chunked upload to `url`: the body's length is unknown until it ends. */
function chunkedHead(url: URL): string {
  return `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nTransfer-Encoding: chunked\r\n\r\n`;
}

const CHUNK_FRAME = Buffer.concat([
  Buffer.from(`${UPLOAD_CHUNK.length.toString(16)}\r\n`),
  UPLOAD_CHUNK,
  Buffer.from('\r\n'),
]);

function expectRefusal(reply: Awaited<ReturnType<typeof responseOf>>, status: string, code: number) {
  expect({ status: reply?.status, body: reply?.body.slice(0, 200) }).toMatchObject({ status });
  expect(JSON.parse(reply?.body ?? '') as FailReply).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: code });
  expect(reply?.head).toMatch(/^connection: close$/m);
}

/** Writes chunk frames on `client` until the server closes it or `max` bytes are written. */
async function writeUntilClosed(client: RawClient, max: number): Promise<number> {
  const write = writerOf(client);
  let written = 0;
  while (written < max && (await write(CHUNK_FRAME))) {
    written += UPLOAD_CHUNK.length;
  }
  return written;
}

test('an unsigned upload gets its 401 while the body is unfinished, and the socket closes within 1 s', async ({
  receiver,
  server,
  base,
}) => {
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  // A client that would hold the socket: it keeps its end open after the server closed its own.
  const client = await rawClient(base, '', '', 100, true);
  const [serverSide] = await accepted;
  const serverClosed = once(serverSide, 'close');
  const reply = responseOf(client);
  const write = writerOf(client);
  expect(await write(chunkedHead(new URL(callbackUrl({ token: undefined }, base))))).toBe(true);
  expect(await write(CHUNK_FRAME)).toBe(true);
  // The body is not finished: only a receiver that does not wait for it can answer.
  expectRefusal(await withTimeout(reply, 2000, 'the 401'), '401', 40101);
  // The client ends its body and then sits on the connection, silent.
  await write('0\r\n\r\n');
  await withTimeout(serverClosed, UNREAD_MS + CLOSE_SLACK_MS, 'the server closing the connection');
  expect(await jobCount(receiver.queue)).toBe(0);
  expect(receiver.logLines.filter((line) => line.msg === 'callback')).toMatchObject([
    { status: 401, reason: 'signature_missing' },
  ]);
});

test('another app uploading far past the limit gets 403, not 413, and is cut off after about the limit', async ({
  receiver,
  base,
}) => {
  const client = await rawClient(base);
  const reply = responseOf(client);
  const write = writerOf(client);
  const offered = 64 * MIB;
  expect(await write(chunkedHead(new URL(callbackUrl({ sdkAppId: '1400000001' }, base))))).toBe(true);
  const written = await withTimeout(writeUntilClosed(client, offered), UNREAD_MS + CLOSE_SLACK_MS, 'the cut-off');
  expectRefusal(await reply, '403', 40301);
  // The server read its 1 MiB budget and closed; what else got written sat in socket buffers.
  expect(written).toBeLessThan(offered / 4);
  expect(await jobCount(receiver.queue)).toBe(0);
});

const blockingClients: [string, string, RejectionReason, (base: string) => URL][] = [
  ['another app', '403', 'wrong_app', (base) => new URL(callbackUrl({ sdkAppId: '1400000001' }, base))],
  ['a bad signature', '401', 'signature_mismatch', (base) => new URL(callbackUrl({ token: 'not-ours' }, base))],
  ['a wrong path', '404', 'not_found', (base) => new URL(callbackUrl({}, base).replace('/im/callback', '/im/cb'))],
];

// A slow link: 512 KiB in 64 KiB pieces, 50 ms apart, so the upload takes about 400 ms.
test.for(blockingClients)(
  '%s, slowly writing a 512 KiB body before reading, still gets its %s',
  async ([, status, reason, urlOf], { receiver, base }) => {
    const url = urlOf(base);
    const total = 512 * 1024;
    const head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${total}\r\n\r\n`;
    // The reply is sent at once and the connection closed with the body still on its way: had the
    // server stopped reading, the rest of the upload would reset the connection and lose the reply.
    expect(await uploadThenRead(base, head, total, 50)).toEqual({ status, written: total });
    expect(await jobCount(receiver.queue)).toBe(0);
    expect(receiver.logLines.filter((line) => line.msg === 'callback').map((line) => line.reason)).toEqual(
      reason === 'not_found' ? [] : [reason],
    );
  },
);

test('only refusals decided before the body close the connection; later ones keep it', async ({ receiver }) => {
  const post = (url: string, body = messageBody()) => receiver.app.request(url, { method: 'POST', body });
  const beforeBody = [
    await receiver.app.request(callbackUrl(), { method: 'GET' }),
    await post(callbackUrl({ sdkAppId: '1' })),
    await post(callbackUrl({ token: undefined })),
    await post(callbackUrl().replace('/im/callback', '/elsewhere')),
  ];
  expect(beforeBody.map((res) => [res.status, res.headers.get('connection')])).toEqual([
    [405, 'close'],
    [403, 'close'],
    [401, 'close'],
    [404, 'close'],
  ]);
  const afterBody = [await post(callbackUrl(), '{'), await post(callbackUrl(), 'x'.repeat(MIB + 1))];
  expect(afterBody.map((res) => [res.status, res.headers.get('connection')])).toEqual([
    [400, null],
    [413, null],
  ]);
});
