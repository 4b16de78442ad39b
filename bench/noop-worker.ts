import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

// Baseline (b): a BullMQ worker whose processor does nothing, draining the same jobs on the same Redis.

const connection = new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: null });
// Only bullmq and ioredis: the bench passes the queue's name (QUEUE_NAME) and prefix.
const worker = new Worker(process.env.QUEUE_NAME ?? '', async () => 'stored', {
  connection,
  prefix: process.env.QUEUE_PREFIX,
  concurrency: Number(process.env.WORKER_CONCURRENCY ?? 100),
});
worker.on('error', () => {});
await worker.waitUntilReady();
process.stdout.write(`${JSON.stringify({ msg: 'worker started' })}\n`);
process.once('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
