import { serve } from '@hono/node-server';
import { Hono } from 'hono';

// Baseline (a): a bare Hono app on @hono/node-server that parses the same JSON body and replies
// the same fixed JSON as the receiver, and does nothing else.

const OK = '{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}';
const app = new Hono();
app.post('/im/callback', async (c) => {
  await c.req.json();
  return c.body(OK, 200, { 'content-type': 'application/json' });
});
serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT) }, (info) => {
  process.stdout.write(`${JSON.stringify({ msg: 'baseline listening', port: info.port })}\n`);
});
