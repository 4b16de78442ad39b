import { createConnection, type Socket } from 'node:net';
import { loadFixture } from '@imsync/fixtures';
import { holdSilentPort, waitFor } from '@imsync/testing';
import { test } from '@imsync/testing/vitest';
import { expect, onTestFinished } from 'vitest';
import { signed, startReceiver } from './stack.js';

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('close', () => resolve(text));
  });
}

test('SIGTERM: the request in flight is answered (and stored), new connections are refused, exit code 0', async ({
  redis,
}) => {
  const { receiver, port, callbackUrl } = await startReceiver({ REDIS_URL: redis.url });
  const body = Buffer.from(loadFixture('text-public').text);
  const url = new URL(signed(callbackUrl));

  // A request caught half-way: the server has its headers (it answered "100 Continue") and part of
  // the body when the signal arrives.
  const socket = await connect(port);
  const reply = readAll(socket);
  const continued = new Promise((resolve) => socket.once('data', resolve));
  socket.write(
    `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
  );
  expect(String(await continued)).toMatch(/^HTTP\/1\.1 100 Continue/);
  socket.write(body.subarray(0, 100));
  const exit = receiver.stop('SIGTERM');
  await receiver.waitForLine((line) => line.msg === 'shutting down');

  // The listening socket closes on the next turn of the receiver's event loop.
  await waitFor(
    () =>
      connect(port).then(
        (s) => {
          s.destroy();
          return false;
        },
        (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED',
      ),
    {
      what: 'new connections refused',
    },
  );
  // write, not end: a half-close (FIN) after the body makes Node abort the request, signal or not.
  socket.write(body.subarray(100));
  expect(await reply).toMatch(/HTTP\/1\.1 200 OK[\s\S]*\{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0\}$/);
  expect(await exit).toBe(0);
  const done = receiver.lines.find((line) => line.msg === 'callback');
  expect(done).toMatchObject({ status: 200, outcome: 'accepted' });
});

test('SIGTERM while Redis is unreachable still shuts down cleanly: exit code 0', async () => {
  // Its Redis accepts the connection and never answers, so the connection never becomes ready.
  const silent = await holdSilentPort();
  onTestFinished(() => silent.close());
  const { receiver } = await startReceiver({ REDIS_URL: `redis://127.0.0.1:${silent.port}` }, { ready: false });
  expect(await receiver.stop('SIGTERM')).toBe(0);
  expect(receiver.lines.filter((line) => line.msg === 'shutdown step failed')).toEqual([]);
});
