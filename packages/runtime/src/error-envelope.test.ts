import { PassThrough } from 'node:stream';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { expect, test } from 'vitest';
import { errorResponse, registerErrorEnvelope } from './error-envelope.js';
import { createLogger } from './logger.js';

function app() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(JSON.parse(chunk.toString('utf8'))));
  const logger = createLogger({ name: 'test', level: 'info', destination: stream });
  const hono = new Hono();
  hono.use(requestId());
  registerErrorEnvelope(hono, logger);
  hono.get('/refused', (c) => errorResponse(c, 403, 'read_only', 'the dashboard is read-only'));
  hono.get('/slow', () => {
    throw new HTTPException(504, { message: 'Redis did not answer' });
  });
  hono.get('/broken', () => {
    throw new Error('secret detail');
  });
  return { hono, lines };
}

test('a refusal answers its status with code, message and the request id of X-Request-Id', async () => {
  const res = await app().hono.request('/refused');
  expect(res.status).toBe(403);
  expect(await res.json()).toEqual({
    error: 'Forbidden',
    code: 'read_only',
    message: 'the dashboard is read-only',
    requestId: res.headers.get('x-request-id'),
  });
});

test('an unknown route and an HTTPException answer with the envelope, keeping their status', async () => {
  const { hono } = app();
  const missing = await hono.request('/nowhere', { method: 'POST' });
  expect(missing.status).toBe(404);
  expect(await missing.json()).toMatchObject({ code: 'not_found', message: 'no such route: POST /nowhere' });
  const slow = await hono.request('/slow');
  expect(slow.status).toBe(504);
  expect(await slow.json()).toMatchObject({
    error: 'Gateway Timeout',
    code: 'gateway_timeout',
    message: 'Redis did not answer',
  });
});

test('an unexpected error is a 500 naming the request id; its cause is logged, not answered', async () => {
  const { hono, lines } = app();
  const res = await hono.request('/broken', { headers: { 'x-request-id': 'req-1' } });
  expect(res.status).toBe(500);
  const body = await res.json();
  expect(body).toEqual({
    error: 'Internal Server Error',
    code: 'internal',
    message: expect.any(String),
    requestId: 'req-1',
  });
  expect(JSON.stringify(body)).not.toContain('secret detail');
  await new Promise((resolve) => setImmediate(resolve));
  expect(lines).toEqual([
    expect.objectContaining({ level: 'error', requestId: 'req-1', msg: 'unexpected error', err: expect.anything() }),
  ]);
});
