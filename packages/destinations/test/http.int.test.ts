import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadCallbackFixtures } from '@imsync/fixtures';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, expect, test } from 'vitest';
import {
  createHttpDestination,
  type DeliveryEvent,
  type DeliveryOutcome,
  type Destination,
  type HttpDestinationOptions,
} from '../src/index.js';

// A real HTTP server on loopback, no mock of the HTTP layer: what fetch does with redirects,
// timeouts, huge bodies and refused connections is what is under test.

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const [OLD_SECRET, NEW_SECRET] = [secret(), secret()];

interface Received {
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

type Handler = (request: Received, response: ServerResponse) => void;

let server: Server;
let url = '';
let received: Received[] = [];
let handler: Handler = (_, response) => response.writeHead(204).end();
/** Fires when a response is cut off before it ended (the client went away). */
let responsesClosedEarly = 0;

beforeEach(async () => {
  received = [];
  responsesClosedEarly = 0;
  handler = (_, response) => response.writeHead(204).end();
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method,
        path: request.url,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(entry);
      response.on('close', () => {
        if (!response.writableEnded) {
          responsesClosedEarly += 1;
        }
      });
      handler(entry, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/imsync`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const event: DeliveryEvent = {
  id: 'gm-0123456789abcdef0123456789abcdef',
  key: 'gm-0123456789abcdef0123456789abcdef',
  command: 'Group.CallbackAfterSendMsg',
  sdkAppId: '1400000000',
  receivedAt: new Date('2026-12-01T08:30:00.000Z'),
  body: '{"CallbackCommand":"Group.CallbackAfterSendMsg","MsgSeq":1.0,"Big":12345678901234567890}',
};

const destination = (options: Partial<HttpDestinationOptions> = {}): Destination =>
  createHttpDestination({ name: 'test', url, secrets: [OLD_SECRET, NEW_SECRET], ...options });

const deliver = (target: Destination = destination(), signal = new AbortController().signal) =>
  target.deliver(event, signal);

/** Checks one request as a Standard Webhooks receiver would, with each configured secret. */
function verify(request: Received): unknown {
  const headers = {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
  const [fromOld, fromNew] = [OLD_SECRET, NEW_SECRET].map((key) => new Webhook(key).verify(request.body, headers));
  expect(fromNew).toEqual(fromOld);
  return fromOld;
}

test('every command is POSTed as the documented envelope, signed with each secret, body verbatim', async () => {
  const target = destination();
  const fixtures = loadCallbackFixtures();
  for (const [n, fixture] of fixtures.entries()) {
    const outcome = await target.deliver(
      { ...event, id: `ev-${n}`, key: `ev-${n}`, command: fixture.command, body: fixture.text },
      new AbortController().signal,
    );
    expect(outcome).toEqual({ kind: 'delivered', status: 204 });
  }
  expect(received).toHaveLength(fixtures.length);
  for (const [n, request] of received.entries()) {
    const fixture = fixtures[n];
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/hooks/imsync');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['user-agent']).toBe('imsync');
    expect(request.headers['webhook-id']).toBe(`ev-${n}`);
    expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(verify(request)).toEqual({
      type: fixture?.command,
      id: `ev-${n}`,
      key: `ev-${n}`,
      sdkAppId: '1400000000',
      receivedAt: '2026-12-01T08:30:00.000Z',
      data: fixture?.body,
    });
    expect(request.body).toContain(`"data":${fixture?.text}}`);
  }
});

test('a retry carries the same webhook-id, a new timestamp and a fresh signature', async () => {
  let now = new Date(Math.floor(Date.now() / 1000) * 1000 - 10_000);
  const target = destination({ clock: () => now });
  handler = (_, response) => response.writeHead(500).end('try later');
  expect(await deliver(target)).toEqual({ kind: 'retry', reason: 'HTTP 500: try later' });
  now = new Date(now.getTime() + 5000);
  handler = (_, response) => response.writeHead(200).end('ok');
  expect(await deliver(target)).toEqual({ kind: 'delivered', status: 200 });
  const [first, second] = received;
  expect(first?.headers['webhook-id']).toBe(event.id);
  expect(second?.headers['webhook-id']).toBe(event.id);
  expect(Number(second?.headers['webhook-timestamp']) - Number(first?.headers['webhook-timestamp'])).toBe(5);
  expect(second?.headers['webhook-signature']).not.toBe(first?.headers['webhook-signature']);
  expect(second?.body).toBe(first?.body);
  for (const request of received) {
    verify(request);
  }
});

test('statuses: 5xx and 408 retry, 410 is gone, other 4xx rejected', async () => {
  const answers: [number, DeliveryOutcome['kind']][] = [
    [500, 'retry'],
    [502, 'retry'],
    [504, 'retry'],
    [408, 'retry'],
    [429, 'retry'],
    [503, 'retry'],
    [410, 'gone'],
    [400, 'rejected'],
    [401, 'rejected'],
    [404, 'rejected'],
    [413, 'rejected'],
    [201, 'delivered'],
    [299, 'delivered'],
  ];
  const target = destination();
  for (const [status, kind] of answers) {
    handler = (_, response) => response.writeHead(status).end(`said ${status}`);
    const outcome = await deliver(target);
    expect(outcome.kind, `HTTP ${status}`).toBe(kind);
    // No Retry-After: the retry spends an attempt.
    expect(outcome).not.toHaveProperty('retryAfterMs');
  }
  handler = (_, response) => response.writeHead(400).end('{"error":"invalid signature"}');
  expect(await deliver(target)).toEqual({ kind: 'rejected', reason: 'HTTP 400: {"error":"invalid signature"}' });
  handler = (_, response) => response.writeHead(410).end();
  expect(await deliver(target)).toEqual({
    kind: 'gone',
    reason: 'HTTP 410 Gone: the destination asks not to be sent events any more',
  });
});

test('429 with Retry-After: 2 waits 2 s for free; 503 with an HTTP-date waits until then', async () => {
  handler = (_, response) => response.writeHead(429, { 'retry-after': '2' }).end('slow down');
  expect(await deliver()).toEqual({
    kind: 'retry',
    reason: 'HTTP 429, retry after 2000 ms: slow down',
    retryAfterMs: 2000,
  });

  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const then = new Date(now.getTime() + 30_000).toUTCString();
  handler = (_, response) => response.writeHead(503, { 'retry-after': then }).end();
  expect(await deliver(destination({ clock: () => now }))).toEqual({
    kind: 'retry',
    reason: 'HTTP 503, retry after 30000 ms',
    retryAfterMs: 30_000,
  });
  // Capped at an hour; not for other statuses; nothing when the header is not usable.
  handler = (_, response) => response.writeHead(429, { 'retry-after': '999999' }).end();
  expect(await deliver()).toMatchObject({ retryAfterMs: 3_600_000 });
  handler = (_, response) => response.writeHead(500, { 'retry-after': '2' }).end();
  expect(await deliver()).toEqual({ kind: 'retry', reason: 'HTTP 500' });
  handler = (_, response) => response.writeHead(503, { 'retry-after': 'soon' }).end();
  expect(await deliver()).toEqual({ kind: 'retry', reason: 'HTTP 503' });
});

test('a redirect is not followed: rejected, the Location named without its query', async () => {
  handler = (request, response) => {
    if (request.path === '/hooks/imsync') {
      response.writeHead(302, { location: '/elsewhere?token=secret' }).end();
    } else {
      response.writeHead(200).end();
    }
  };
  const outcome = await deliver();
  expect(outcome).toEqual({
    kind: 'rejected',
    reason: `HTTP 302: redirects are not followed (Location: ${new URL(url).origin}/elsewhere)`,
  });
  for (const status of [301, 307, 308]) {
    handler = (_, response) => response.writeHead(status, { location: 'https://other.example/' }).end();
    expect(await deliver()).toMatchObject({ kind: 'rejected' });
  }
  expect(received.map((request) => request.path)).toEqual(Array(4).fill('/hooks/imsync'));
});

test('a server that never answers times out; one that stops mid-body still counts its status', async () => {
  handler = () => {};
  const started = Date.now();
  expect(await deliver(destination({ timeoutMs: 200 }))).toEqual({ kind: 'retry', reason: 'timed out after 200 ms' });
  expect(Date.now() - started).toBeLessThan(2000);

  // Headers then nothing: the status is known, the body read gives up at the timeout.
  handler = (_, response) => {
    response.writeHead(200, { 'content-length': '100' });
    response.write('partial');
  };
  expect(await deliver(destination({ timeoutMs: 200 }))).toEqual({ kind: 'delivered', status: 200 });
});

test('a huge (endless) response body is read up to the cap and cut', async () => {
  const chunk = 'x'.repeat(16 * 1024);
  let written = 0;
  const endless = (status: number) => (_: Received, response: ServerResponse) => {
    response.writeHead(status, { 'content-type': 'text/plain' });
    const pump = () => {
      // Writes until the socket pushes back, then again on drain: endless unless the client stops.
      while (!response.destroyed && written < 1024 * 1024 * 1024) {
        written += chunk.length;
        if (!response.write(chunk)) {
          response.once('drain', pump);
          return;
        }
      }
    };
    pump();
  };
  handler = endless(500);
  const target = destination({ maxResponseBytes: 32 * 1024, timeoutMs: 5000 });
  const outcome = await deliver(target);
  // Not a timeout: the client stopped reading at the cap. The reason quotes the start only.
  expect(outcome).toEqual({ kind: 'retry', reason: `HTTP 500: ${'x'.repeat(200)}` });
  handler = endless(200);
  expect(await deliver(target)).toEqual({ kind: 'delivered', status: 200 });
  await expect.poll(() => responsesClosedEarly).toBe(2);
  // What the server got out before the client hung up: the cap, plus what socket buffers hold.
  expect(written).toBeGreaterThan(2 * 32 * 1024);
  expect(written).toBeLessThan(64 * 1024 * 1024);
});

test('a refused connection is a retry, as is a caller that aborts', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const refused = await deliver(destination({ url: `http://127.0.0.1:${port}/` }));
  expect(refused).toMatchObject({ kind: 'retry' });
  expect((refused as { reason: string }).reason).toMatch(/^network error: .*ECONNREFUSED/);

  handler = () => {};
  const caller = new AbortController();
  const pending = deliver(destination(), caller.signal);
  await expect.poll(() => received.length).toBe(1);
  caller.abort(new Error('shutting down'));
  expect(await pending).toEqual({ kind: 'retry', reason: 'aborted by the caller' });
  expect(await deliver(destination(), caller.signal)).toEqual({ kind: 'retry', reason: 'aborted before sending' });
});

test('an event that cannot make a request fails for good, without a request', async () => {
  expect(await destination().deliver({ ...event, id: 'has space' }, new AbortController().signal)).toMatchObject({
    kind: 'rejected',
  });
  expect(
    await destination().deliver({ ...event, receivedAt: new Date(Number.NaN) }, new AbortController().signal),
  ).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('cannot build the envelope') });
  expect(received).toEqual([]);
});

test('a bad URL or secret is refused at creation, not at every delivery', () => {
  expect(() => destination({ url: 'ftp://127.0.0.1/' })).toThrow('the URL must be http(s)');
  expect(() => destination({ url: 'http://user:pass@127.0.0.1/' })).toThrow('must not carry credentials');
  expect(() => destination({ secrets: [] })).toThrow('at least one signing secret');
  expect(destination({ commands: ['C2C.CallbackAfterSendMsg'] }).commands).toEqual(
    new Set(['C2C.CallbackAfterSendMsg']),
  );
  expect(destination().commands).toBeUndefined();
});
