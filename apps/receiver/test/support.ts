import { once } from 'node:events';
import type { Server } from 'node:http';
import { loadFixture } from '@imsync/fixtures';
import type { FailReply } from '@imsync/protocol';
import { SUPPORTED_COMMANDS } from '@imsync/protocol';
import { type CallbackJobData, createProducer, createRedis, INGEST_QUEUE } from '@imsync/queue';
import { createRegistry, listen, registerOpsRoutes } from '@imsync/runtime';
import { type CallbackQueryOptions, createCaptureLogger, signedCallbackUrl } from '@imsync/testing';
import { test as base } from '@imsync/testing/vitest';
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { expect, onTestFinished } from 'vitest';
import { createApp, type ReceiverDeps } from '../src/app.js';
import { type CallbackServerOptions, createCallbackServer } from '../src/callback-server.js';
import { REJECTIONS, type RejectionReason } from '../src/errors.js';
import { createReceiverMetrics } from '../src/metrics.js';
import { receiverOpsRoutes } from '../src/ops.js';

export const SDK_APP_ID = '1600012345';
export const TOKEN = 'k3m9-ChatCb-Token-2026';

export interface TestReceiver {
  app: ReturnType<typeof createApp>;
  /** The ops routes (`/readyz`, `/metrics`) as the ops server serves them, on the same registry. */
  ops: Hono;
  /** A separate handle on the receiver's queue, to see what reached Redis. */
  queue: Queue<CallbackJobData>;
  registry: Registry;
  logLines: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Config values that differ from production's, and the clock the receiver reads. */
export type ReceiverOptions = Partial<ReceiverDeps['config']> & { clock?: () => number };

let counter = 0;

/**
 * The receiver app on a real Redis, with its own queue prefix so tests never see each other's
 * jobs. Config values default to production's and can be overridden per test.
 */
async function buildReceiver(redisUrl: string, overrides: ReceiverOptions = {}): Promise<TestReceiver> {
  const prefix = `t${process.pid}x${++counter}x${Date.now().toString(36)}`;
  const connection = createRedis(redisUrl, { role: 'producer', commandTimeoutMs: 1000 });
  connection.on('error', () => {});
  const producer = createProducer({ connection, layout: { prefix } });
  const { logger, lines: logLines } = createCaptureLogger('test-receiver');
  const registry = createRegistry();
  const { clock, ...config } = overrides;
  const app = createApp({
    config: {
      apps: new Map([[SDK_APP_ID, [TOKEN]]]),
      TIM_COMMANDS: new Set(SUPPORTED_COMMANDS),
      TIM_CALLBACK_AUTH: 'on',
      CALLBACK_PATH: '/im/callback',
      BODY_LIMIT_BYTES: 1024 * 1024,
      MAX_JSON_DEPTH: 32,
      SIGNATURE_WINDOW_SECONDS: 60,
      LOG_CALLBACKS: 'all',
      ...config,
    },
    producer,
    logger,
    metrics: createReceiverMetrics(registry),
    clock,
  });
  const ops = new Hono();
  registerOpsRoutes(ops, receiverOpsRoutes({ registry, producer }));
  const inspection = createRedis(redisUrl, { role: 'worker' });
  const queue = new Queue<CallbackJobData>(INGEST_QUEUE, { connection: inspection, prefix });
  // The producer refuses (503) until its connection is ready; tests start once it is.
  if (connection.status !== 'ready') {
    await once(connection, 'ready', { signal: AbortSignal.timeout(10_000) });
  }
  return {
    app,
    ops,
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
export async function allJobs(queue: Queue<CallbackJobData>) {
  return queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized']);
}

/**
 * `test` with a `receiver` on the file's Redis, closed after each test that takes it. It is built
 * with `receiverOptions` (none by default): a `describe` block sets its own with
 * `test.override('receiverOptions', ...)`, a whole file with `test.extend('receiverOptions', ...)`.
 * A file should use one of these `test`s only: each keeps its own file-scoped Redis.
 */
export const test = base
  .extend('receiverOptions', {} as ReceiverOptions)
  .extend('receiver', async ({ redis, receiverOptions }, { onCleanup }) => {
    const receiver = await buildReceiver(redis.url, receiverOptions);
    onCleanup(() => receiver.close());
    return receiver;
  });

/**
 * A receiver with options of its own, for the single test that needs them (the `receiver`
 * fixture serves the rest), closed when the test finishes, whether it passed or not.
 */
export async function openReceiver(redisUrl: string, overrides: ReceiverOptions = {}): Promise<TestReceiver> {
  const receiver = await buildReceiver(redisUrl, overrides);
  onTestFinished(() => receiver.close());
  return receiver;
}

/** The reply every accepted callback gets, byte for byte. */
export const OK_REPLY = '{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}';

/**
 * The callback URL as the IM backend builds it, signed with `TOKEN` now. Pass `token: undefined`
 * for an unsigned query; `base` may carry a host and port (real server tests).
 */
export function callbackUrl(options: Partial<CallbackQueryOptions> = {}, base = 'http://receiver.test'): string {
  return signedCallbackUrl(`${base}/im/callback`, { sdkAppId: SDK_APP_ID, token: TOKEN, ...options });
}

/** A valid group message body (the `text-public` fixture) with fields replaced or, as `undefined`, removed. */
export function messageBody(patch: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...loadFixture('text-public').body, ...patch });
}

/** Asserts the reply is the FAIL envelope with the status and code `REJECTIONS` gives `reason`. */
export async function expectRejection(res: Response, reason: RejectionReason): Promise<FailReply> {
  const { status, code } = REJECTIONS[reason];
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const reply = JSON.parse(text) as FailReply;
  expect(reply).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: code });
  expect(typeof reply.ErrorInfo).toBe('string');
  expect(reply.ErrorInfo.length).toBeGreaterThan(0);
  return reply;
}

/** How many jobs the queue holds, whatever their state. */
export async function jobCount(queue: Queue<CallbackJobData>): Promise<number> {
  return (await allJobs(queue)).length;
}

/** The value of `imsync_callbacks_received_total` for one outcome (and reason; `''` when none). */
export async function callbackCount(registry: Registry, outcome: string, reason = ''): Promise<number> {
  const metric = registry.getSingleMetric('imsync_callbacks_received_total');
  if (!metric) {
    throw new Error('imsync_callbacks_received_total is not registered');
  }
  const { values } = await metric.get();
  // Summed over the app and command labels.
  return values
    .filter((value) => value.labels.outcome === outcome && (value.labels.reason ?? '') === reason)
    .reduce((sum, value) => sum + value.value, 0);
}

/** `levels` nested arrays around a number: as a field of the top-level object, `levels + 1` deep. */
export function nestedArrays(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) {
    value = [value];
  }
  return value;
}

/**
 * `promise`, or a rejection naming `what` once `ms` have passed without it settling: a request
 * that hangs fails its test with a reason instead of stalling it until the test timeout.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Serves a test's receiver over real HTTP on 127.0.0.1 (the Node-stream body path), as the
 * process does, closed with all its connections when the test ends.
 */
export async function serveReceiver(
  receiver: TestReceiver,
  onCleanup: (cleanup: () => Promise<void>) => void,
  options: CallbackServerOptions = {},
): Promise<Server> {
  const server = createCallbackServer(receiver.app, options);
  await listen(server, { host: '127.0.0.1', port: 0, portVariable: 'PORT' });
  onCleanup(async () => {
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
  });
  return server;
}
