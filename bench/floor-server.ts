import { serve } from '@hono/node-server';
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import { Redis } from 'ioredis';

// The floor receiver of the steady-load bench: a bare Hono app that parses the body, writes it to
// a queue with one plain BullMQ `queue.add` (no signature, validation, job id or batching) and
// replies the same fixed JSON. With bench/noop-worker.ts it is the least a queueing pipeline costs.

const OK = '{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}';
const connection = new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: 0, enableOfflineQueue: false });
const queue = new Queue(process.env.QUEUE_NAME ?? '', { connection, prefix: process.env.QUEUE_PREFIX });
await queue.waitUntilReady();
const app = new Hono();
app.post('/im/callback', async (c) => {
  const body = await c.req.json();
  await queue.add('group-message', { body }, { removeOnComplete: 1000 });
  return c.body(OK, 200, { 'content-type': 'application/json' });
});
serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT) }, (info) => {
  process.stdout.write(`${JSON.stringify({ msg: 'floor listening', port: info.port })}\n`);
});
