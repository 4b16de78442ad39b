import {
  ALL_QUEUES,
  createRedis,
  GROUP_MESSAGE_JOB,
  GROUP_MESSAGES_QUEUE,
  type GroupMessageJobData,
  registerQueueMetrics,
} from '@imsync/queue';
import { createRegistry, METRIC_PREFIX } from '@imsync/runtime';
import { createCaptureLogger } from '@imsync/testing';
import { test as base } from '@imsync/testing/vitest';
import { type JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Hono } from 'hono';
import { expect, onTestFinished } from 'vitest';
import { createDashboardApp, type DashboardDeps } from '../src/app.js';
import { createAuth, SESSION_COOKIE } from '../src/auth.js';

export const CREDENTIALS = { user: 'admin', password: 'correct-horse-battery' } as const;

/** Where the tests pretend the dashboard is served; requests carry the matching Host header. */
// A loopback name: the local-only board answers no other host (DNS rebinding).
export const HOST = 'localhost:3000';
export const ORIGIN = `http://${HOST}`;

/** The headers a browser sends with a request the dashboard's own page started. */
export const SAME_ORIGIN = { host: HOST, origin: ORIGIN, 'sec-fetch-site': 'same-origin' } as const;

export interface TestDashboard {
  app: Hono;
  /** A separate handle on `group-messages` with its own connection, to see what Redis holds. */
  queue: Queue<GroupMessageJobData>;
  prefix: string;
  redisUrl: string;
  logLines: Record<string, unknown>[];
  close(): Promise<void>;
}

export interface DashboardOptions {
  /** `false` builds the local-only board (DASHBOARD_LOCAL_ONLY): no login at all. */
  login?: boolean;
  readOnly?: boolean;
  /** The readiness check for Redis; by default a PING on the board's own connection. */
  ping?: DashboardDeps['ping'];
}

let counter = 0;

/**
 * The dashboard as `server.ts` builds it (real BullMQ queues for `ALL_QUEUES`, a registry with the
 * queue metrics, a login unless local-only) on a real Redis, with a queue prefix of its own so
 * tests never see each other's jobs.
 */
async function buildDashboard(redisUrl: string, options: DashboardOptions = {}): Promise<TestDashboard> {
  const prefix = `t${process.pid}x${++counter}x${Date.now().toString(36)}`;
  const connection = createRedis(redisUrl, { role: 'worker', connectionName: 'test-dashboard' });
  connection.on('error', () => {});
  const queues = ALL_QUEUES.map((name) => {
    const queue = new Queue(name, { connection, prefix });
    queue.on('error', () => {});
    return queue;
  });
  const registry = createRegistry({ service: 'dashboard' });
  registerQueueMetrics(registry, METRIC_PREFIX, queues);
  const { logger, lines: logLines } = createCaptureLogger('test-dashboard');
  const app = createDashboardApp({
    queues,
    auth: options.login === false ? undefined : createAuth(CREDENTIALS),
    readOnly: options.readOnly ?? false,
    logger,
    registry,
    ping: options.ping ?? (() => connection.ping()),
  });
  const inspection = createRedis(redisUrl, { role: 'worker' });
  inspection.on('error', () => {});
  const queue = new Queue<GroupMessageJobData>(GROUP_MESSAGES_QUEUE, { connection: inspection, prefix });
  queue.on('error', () => {});
  return {
    app,
    queue,
    prefix,
    redisUrl,
    logLines,
    async close() {
      await Promise.all([...queues, queue].map((each) => each.close()));
      connection.disconnect();
      inspection.disconnect();
    },
  };
}

/**
 * `test` with a `dashboard` on the file's Redis, closed after each test that takes it, built with
 * `dashboardOptions` (a login, actions allowed by default): a `describe` block sets its own with
 * `test.override('dashboardOptions', ...)`.
 */
export const test = base
  .extend('dashboardOptions', {} as DashboardOptions)
  .extend('dashboard', async ({ redis, dashboardOptions }, { onCleanup }) => {
    const dashboard = await buildDashboard(redis.url, dashboardOptions);
    onCleanup(() => dashboard.close());
    return dashboard;
  });

/** A dashboard with options (or a Redis) of its own, closed when the test finishes. */
export async function openDashboard(redisUrl: string, options: DashboardOptions = {}): Promise<TestDashboard> {
  const dashboard = await buildDashboard(redisUrl, options);
  onTestFinished(() => dashboard.close());
  return dashboard;
}

export interface CallOptions {
  method?: string;
  /** A `name=value` pair for the Cookie header. */
  cookie?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** A request to the dashboard at `ORIGIN`; `path` may carry a query. */
export function call(dashboard: TestDashboard, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { host: HOST, ...options.headers };
  if (options.cookie !== undefined) {
    headers.cookie = options.cookie;
  }
  return Promise.resolve(
    dashboard.app.request(`${ORIGIN}${path}`, { method: options.method ?? 'GET', headers, body: options.body }),
  );
}

/** A state-changing bull-board API call as the board's own page makes it. */
export function action(dashboard: TestDashboard, path: string, cookie: string | undefined, method = 'PUT') {
  return call(dashboard, `/queues/api${path}`, { method, cookie, headers: { ...SAME_ORIGIN } });
}

/** Posts the login form as a browser on the login page does. */
export function postLogin(
  dashboard: TestDashboard,
  form: Record<string, string>,
  headers: Record<string, string> = SAME_ORIGIN,
): Promise<Response> {
  return call(dashboard, '/login', {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

/** The `Set-Cookie` header that sets (or clears) the session cookie, if any. */
export function sessionSetCookie(res: Response): string | undefined {
  return res.headers.getSetCookie().find((each) => each.startsWith(`${SESSION_COOKIE}=`));
}

/** Logs in with the right credentials and returns the session cookie as a `name=value` pair. */
export async function signIn(dashboard: TestDashboard): Promise<string> {
  const res = await postLogin(dashboard, { user: CREDENTIALS.user, password: CREDENTIALS.password });
  expect(res.status).toBe(303);
  const setCookie = sessionSetCookie(res);
  expect(setCookie).toBeDefined();
  return (setCookie ?? '').split(';')[0] ?? '';
}

/** Job data as the receiver enqueues it; `seq` keeps the bodies apart. */
export function jobData(seq: number): GroupMessageJobData {
  return { sdkAppId: '1600012345', body: JSON.stringify({ MsgSeq: seq }), receivedAt: Date.now() };
}

/** Adds `count` jobs to `group-messages` and returns their ids. */
export async function addJobs(dashboard: TestDashboard, count: number, options: JobsOptions = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const job = await dashboard.queue.add(GROUP_MESSAGE_JOB, jobData(seq), options);
    ids.push(String(job.id));
  }
  return ids;
}

/**
 * Adds `count` jobs and has a real Worker on the dashboard's prefix fail each for good (an
 * `UnrecoverableError`, as a processor throws for a message the sink can never take).
 */
export async function addFailedJobs(dashboard: TestDashboard, count: number): Promise<string[]> {
  const ids = await addJobs(dashboard, count);
  const connection = createRedis(dashboard.redisUrl, { role: 'worker' });
  connection.on('error', () => {});
  const worker = new Worker<GroupMessageJobData, void>(
    GROUP_MESSAGES_QUEUE,
    async () => {
      throw new UnrecoverableError('the sink refused the message');
    },
    { connection, prefix: dashboard.prefix, autorun: false },
  );
  worker.on('error', () => {});
  const failed = new Set<string>();
  try {
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`only ${failed.size} of ${count} jobs failed`)), 15_000);
      worker.on('failed', (job) => {
        if (job?.id !== undefined) {
          failed.add(job.id);
        }
        if (failed.size === count) {
          clearTimeout(timeout);
          resolve();
        }
      });
      // Listening first, then running: no failure can go unseen.
      worker.run().catch(reject);
    });
  } finally {
    await worker.close();
    connection.disconnect();
  }
  expect([...failed].sort()).toEqual([...ids].sort());
  return ids;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (label values without escapes, as ours have). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) {
      continue;
    }
    const [, name = '', labelText = '', value = ''] = match;
    const labels: Record<string, string> = {};
    for (const pair of labelText.matchAll(/(\w+)="([^"]*)"/g)) {
      labels[pair[1] ?? ''] = pair[2] ?? '';
    }
    samples.push({ name, labels, value: Number(value) });
  }
  return samples;
}

/** The value of the one sample of `name` whose labels include `labels`; fails when none or several match. */
export async function metricValue(
  dashboard: TestDashboard,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const res = await call(dashboard, '/metrics');
  expect(res.status).toBe(200);
  const found = parseMetrics(await res.text()).filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0]?.value ?? Number.NaN;
}

/** The `group-messages` entry of bull-board's queue listing. */
export interface QueueListing {
  name: string;
  counts: Record<string, number>;
  isPaused: boolean;
  readOnlyMode: boolean;
  allowRetries: boolean;
}

export async function listGroupMessages(dashboard: TestDashboard, cookie?: string): Promise<QueueListing> {
  const res = await call(dashboard, '/queues/api/queues', { cookie });
  expect(res.status).toBe(200);
  const { queues } = (await res.json()) as { queues: QueueListing[] };
  expect(queues.map((each) => each.name)).toEqual([...ALL_QUEUES]);
  const listing = queues.find((each) => each.name === GROUP_MESSAGES_QUEUE);
  if (!listing) {
    throw new Error('group-messages is not listed');
  }
  return listing;
}
