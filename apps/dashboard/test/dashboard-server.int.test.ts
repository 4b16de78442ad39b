import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { closeHttpServer, listen } from '@imsync/runtime';
import { Hono } from 'hono';
import { expect, onTestFinished, test } from 'vitest';
import { createDashboardServer, type DashboardServerOptions } from '../src/dashboard-server.js';

// A client that opens a connection and sends its request slowly (or never finishes it) must not
// hold a socket of the dashboard for long: the server closes it once its timeout passed.

async function serve(options: DashboardServerOptions) {
  // The body read fails when the server gives up on the request: that is the point.
  const app = new Hono()
    .get('/', (c) => c.text('ok'))
    .post('/', async (c) => c.text(await c.req.text().catch(() => '')));
  const server = createDashboardServer(app, options);
  const { port } = await listen(server, { host: '127.0.0.1', port: 0, portVariable: 'PORT' });
  onTestFinished(() => closeHttpServer(server));
  return { server, port };
}

/** A raw connection; resolves with what the server wrote and how long until it closed it. */
async function slowClient(port: number, write: (socket: Socket) => void) {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const started = performance.now();
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString();
  });
  write(socket);
  await Promise.race([
    once(socket, 'close'),
    new Promise((_, reject) => setTimeout(() => reject(new Error('the server kept the connection open')), 5000)),
  ]).finally(() => socket.destroy());
  return { received, afterMs: performance.now() - started };
}

test('a client that never finishes its headers is cut off once the headers timeout passed', async () => {
  const { port } = await serve({ headersTimeoutMs: 400, requestTimeoutMs: 10_000 });
  const { received, afterMs } = await slowClient(port, (socket) => socket.write('GET / HTTP/1.1\r\nHost: x\r\n'));
  expect(received).toMatch(/^HTTP\/1\.1 408 /);
  // Node checks its timeouts every `connectionsCheckingInterval` (30 s unless set).
  expect(afterMs).toBeGreaterThanOrEqual(350);
  expect(afterMs).toBeLessThan(2000);
});

test('a client that never finishes its body is cut off once the request timeout passed', async () => {
  const { port } = await serve({ headersTimeoutMs: 400, requestTimeoutMs: 800 });
  const { received, afterMs } = await slowClient(port, (socket) =>
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\npartial'),
  );
  expect(received).toMatch(/^HTTP\/1\.1 408 /);
  expect(afterMs).toBeGreaterThanOrEqual(750);
  expect(afterMs).toBeLessThan(2500);
});

test('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
  const { port } = await serve({ keepAliveTimeoutMs: 300 });
  const { received, afterMs } = await slowClient(port, (socket) => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  expect(received).toMatch(/^HTTP\/1\.1 200 /);
  expect(received).toMatch(/Keep-Alive: timeout=0?\d/i);
  expect(afterMs).toBeLessThan(2000);
});

test('the dashboard’s own limits are seconds, not Node’s minutes', async () => {
  const { server } = await serve({});
  expect(server.headersTimeout).toBe(10_000);
  expect(server.requestTimeout).toBe(30_000);
  expect(server.keepAliveTimeout).toBe(5000);
});
