import { Writable } from 'node:stream';
import { createGroupMessageProducer, createRedis, GROUP_MESSAGES_QUEUE, type GroupMessageJobData } from '@imsync/queue';
import { createLogger, createRegistry } from '@imsync/runtime';
import { Queue } from 'bullmq';
import { createApp, type ReceiverDeps } from '../src/app.js';
import { createReceiverMetrics } from '../src/metrics.js';

export const SDK_APP_ID = '1600012345';
export const TOKEN = 'k3m9-ChatCb-Token-2026';

export interface TestReceiver {
  app: ReturnType<typeof createApp>;
  /** A separate handle on the receiver's queue, to see what reached Redis. */
  queue: Queue<GroupMessageJobData>;
  registry: ReceiverDeps['registry'];
  logLines: Record<string, unknown>[];
  close(): Promise<void>;
}

let counter = 0;

/**
 * The receiver app on a real Redis, with its own queue prefix so tests never see each other's
 * jobs. Config values default to production's and can be overridden per test.
 */
export async function buildReceiver(
  redisUrl: string,
  overrides: Partial<ReceiverDeps['config']> & { clock?: () => number } = {},
): Promise<TestReceiver> {
  const prefix = `t${process.pid}x${++counter}x${Date.now().toString(36)}`;
  const connection = createRedis(redisUrl, { role: 'producer', commandTimeoutMs: 1000 });
  connection.on('error', () => {});
  const producer = createGroupMessageProducer({ connection, prefix });
  const logLines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  const registry = createRegistry();
  const { clock, ...config } = overrides;
  const app = createApp({
    config: {
      TIM_SDK_APP_ID: SDK_APP_ID,
      TIM_CALLBACK_TOKEN: TOKEN,
      CALLBACK_PATH: '/im/callback',
      BODY_LIMIT_BYTES: 1024 * 1024,
      MAX_JSON_DEPTH: 32,
      SIGNATURE_WINDOW_SECONDS: 60,
      ...config,
    },
    producer,
    logger: createLogger({ name: 'test-receiver', level: 'info', destination }),
    registry,
    metrics: createReceiverMetrics(registry),
    clock,
  });
  const inspection = createRedis(redisUrl, { role: 'worker' });
  const queue = new Queue<GroupMessageJobData>(GROUP_MESSAGES_QUEUE, { connection: inspection, prefix });
  return {
    app,
    queue,
    registry,
    logLines,
    async close() {
      await producer.close();
      await queue.close();
      connection.disconnect();
      inspection.disconnect();
    },
  };
}

/** Every job the queue holds, whatever its state. */
export async function allJobs(queue: Queue<GroupMessageJobData>) {
  return queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized']);
}
