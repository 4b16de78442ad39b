import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { expect, test } from 'vitest';
import type { AppEnv } from './app-env.js';
import { echoRequestId, okReply, requestIdVariable } from './request-id.js';

// The receiver's request id must be the one hono/request-id would give: the same ids echoed, the
// same ones replaced by a UUID, and the same header on the reply.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const ours = new Hono<AppEnv>();
ours.use(requestIdVariable());
ours.get('/ok', (c) => okReply(c, '{}'));
ours.get('/other', (c) => {
  echoRequestId(c);
  return c.json({ id: c.get('requestId') });
});

const theirs = new Hono<AppEnv>();
theirs.use(requestId());
theirs.get('/other', (c) => c.json({ id: c.get('requestId') }));

test.each([
  ['tencent-trace-42'],
  ['a=b-c_D9'],
  ['x'.repeat(255)],
  ['x'.repeat(256)],
  [''],
  ['a b'],
  ['a/b'],
  ['trace:1'],
  ['idé'],
])('X-Request-Id %j is echoed or replaced as hono/request-id does', async (sent) => {
  const headers = { 'x-request-id': sent };
  const expected = (await theirs.request('/other', { headers })).headers.get('x-request-id') ?? '';
  for (const path of ['/ok', '/other']) {
    const res = await ours.request(path, { headers });
    const id = res.headers.get('x-request-id') ?? '';
    if (UUID.test(expected)) {
      expect(id).toMatch(UUID);
    } else {
      expect(id).toBe(expected);
    }
  }
});

test('without an X-Request-Id every request gets its own UUID, the same in the reply and the variable', async () => {
  const [a, b] = await Promise.all([ours.request('/other'), ours.request('/other')]);
  const idA = a.headers.get('x-request-id');
  expect(idA).toMatch(UUID);
  expect(b.headers.get('x-request-id')).not.toBe(idA);
  expect(await a.json()).toEqual({ id: idA });
});

test('okReply is a 200 of the given JSON text with its content type', async () => {
  const res = await ours.request('/ok', { headers: { 'x-request-id': 'r-1' } });
  expect(res.status).toBe(200);
  expect(Object.fromEntries(res.headers)).toEqual({ 'content-type': 'application/json', 'x-request-id': 'r-1' });
  expect(await res.text()).toBe('{}');
});
