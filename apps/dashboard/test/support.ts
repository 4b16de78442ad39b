import { STATUS_CODES } from 'node:http';
import {
  ALL_QUEUES,
  type CallbackJobData,
  createQueueLayout,
  createRedis,
  type DeliveryJobData,
  deliveryQueueName,
  INGEST_QUEUE,
  type RedisClient,
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
import { openBoardQueues } from '../src/board-queues.js';
import { startDestinationDiscovery } from '../src/destination-queues.js';
import type { LoginLimits } from '../src/login.js';

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
  queue: Queue<CallbackJobData>;
  /** The connection of `queue`, for what else a test reads or writes (the set of destinations). */
  redis: RedisClient;
  /** A separate handle on a destination's delivery queue, closed with the dashboard. */
  deliveryQueue(destination: string): Queue<DeliveryJobData>;
  prefix: string;
  redisUrl: string;
  logLines: Record<string, unknown>[];
  close(): Promise<void>;
}

export interface DashboardOptions {
  /** `false` builds the local-only board (DASHBOARD_LOCAL_ONLY): no login at all. */
  login?: boolean;
  /** The login's password; CREDENTIALS.password by default. */
  password?: string;
  /** DASHBOARD_SESSION_SECRET; random per dashboard by default, as when unset. */
  sessionSecret?: string;
  /** QUEUE_PREFIX; one of its own by default, so tests never see each other's jobs or sessions. */
  prefix?: string;
  readOnly?: boolean;
  allowDestructive?: boolean;
  trustProxy?: boolean;
  /** Failed logins allowed; the production defaults (5 per address, 50 in all) unless set. */
  loginLimits?: LoginLimits;
  /** The clock of sessions and login limits. */
  now?: () => number;
  /** The readiness check for Redis; by default a PING on the board's own connection. */
  ping?: DashboardDeps['ping'];
  /** How often the board reads the set of destinations again; 10 s (as served) by default. */
  discoveryIntervalMs?: number;
}

let counter = 0;

/** A queue prefix no other test uses. */
export function uniquePrefix(): string {
  return `t${process.pid}x${++counter}x${Date.now().toString(36)}`;
}

/**
 * The dashboard as `server.ts` builds it (real BullMQ queues for `ALL_QUEUES`, a registry with the
 * queue metrics, a login unless local-only) on a real Redis, with a queue prefix of its own so
 * tests never see each other's jobs.
 */
async function buildDashboard(redisUrl: string, options: DashboardOptions = {}): Promise<TestDashboard> {
  const prefix = options.prefix ?? uniquePrefix();
  const connection = createRedis(redisUrl, { role: 'worker', connectionName: 'test-dashboard' });
  connection.on('error', () => {});
  const layout = createQueueLayout({ prefix, shards: 1, cluster: false });
  const { queues, open: openQueue } = openBoardQueues(layout, connection, () => {});
  const { logger, lines: logLines } = createCaptureLogger('test-dashboard');
  const destinations = startDestinationDiscovery({
    redis: connection,
    layout,
    openQueue,
    logger,
    intervalMs: options.discoveryIntervalMs ?? 10_000,
  });
  const registry = createRegistry({ service: 'dashboard' });
  registerQueueMetrics(registry, METRIC_PREFIX, () => [...queues, ...destinations.list().map(({ queue }) => queue)]);
  const app = createDashboardApp({
    queues,
    destinations,
    auth:
      options.login === false
        ? undefined
        : createAuth({
            credentials: { user: CREDENTIALS.user, password: options.password ?? CREDENTIALS.password },
            secret: options.sessionSecret,
            redis: connection,
            keyPrefix: prefix,
            now: options.now,
          }),
    readOnly: options.readOnly ?? false,
    allowDestructive: options.allowDestructive ?? false,
    trustProxy: options.trustProxy ?? false,
    loginLimits: options.loginLimits ?? { perAddress: 5, total: 50 },
    logger,
    registry,
    ping: options.ping ?? (() => connection.ping()),
    now: options.now,
  });
  const inspection = createRedis(redisUrl, { role: 'worker' });
  inspection.on('error', () => {});
  const queue = new Queue<CallbackJobData>(INGEST_QUEUE, { connection: inspection, prefix });
  queue.on('error', () => {});
  const handles: Queue[] = [queue];
  return {
    app,
    queue,
    redis: inspection,
    deliveryQueue(destination) {
      const delivery = new Queue<DeliveryJobData>(deliveryQueueName(destination), { connection: inspection, prefix });
      delivery.on('error', () => {});
      handles.push(delivery);
      return delivery;
    },
    prefix,
    redisUrl,
    logLines,
    async close() {
      await destinations.close();
      await Promise.all([...queues, ...handles].map((each) => each.close()));
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
  /** The address the request comes from (the socket's peer); 127.0.0.1 by default. */
  clientAddress?: string;
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
    dashboard.app.request(
      `${ORIGIN}${path}`,
      { method: options.method ?? 'GET', headers, body: options.body },
      peer(options.clientAddress ?? '127.0.0.1'),
    ),
  );
}

/** What @hono/node-server hands the app about the connection: enough of it to name the peer. */
function peer(remoteAddress: string) {
  return { incoming: { socket: { remoteAddress, remotePort: 50_000, remoteFamily: 'IPv4' } } };
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
  clientAddress?: string,
): Promise<Response> {
  return call(dashboard, '/login', {
    method: 'POST',
    clientAddress,
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

/** The `Set-Cookie` header that sets (or clears) the session cookie, if any. */
export function sessionSetCookie(res: Response): string | undefined {
  return res.headers.getSetCookie().find((each) => each.startsWith(`${SESSION_COOKIE}=`));
}

/** Logs in with the right credentials and returns the session cookie as a `name=value` pair. */
export async function signIn(dashboard: TestDashboard, password: string = CREDENTIALS.password): Promise<string> {
  const res = await postLogin(dashboard, { user: CREDENTIALS.user, password });
  expect(res.status).toBe(303);
  const setCookie = sessionSetCookie(res);
  expect(setCookie).toBeDefined();
  return (setCookie ?? '').split(';')[0] ?? '';
}

/** Job data as the receiver enqueues it; `seq` keeps the bodies apart. */
function jobData(seq: number): CallbackJobData {
  return { sdkAppId: '1600012345', body: JSON.stringify({ MsgSeq: seq }), receivedAt: Date.now() };
}

/** Adds `count` jobs to `group-messages` and returns their ids. */
export async function addJobs(dashboard: TestDashboard, count: number, options: JobsOptions = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const job = await dashboard.queue.add('group-message', jobData(seq), options);
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
  await failJobs(dashboard, INGEST_QUEUE, ids);
  return ids;
}

/**
 * Has a real Worker on the dashboard's prefix take the jobs `ids` waiting in `queueName` and fail
 * each with `error`: for good by default; another error fails an attempt, and a job with attempts
 * left waits for its retry.
 */
export async function failJobs(
  dashboard: TestDashboard,
  queueName: string,
  ids: readonly string[],
  error: Error = new UnrecoverableError('the sink refused the message'),
): Promise<void> {
  const count = ids.length;
  const connection = createRedis(dashboard.redisUrl, { role: 'worker' });
  connection.on('error', () => {});
  const worker = new Worker(
    queueName,
    async () => {
      throw error;
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
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (label values without escapes, as ours have). */
function parseMetrics(text: string): Sample[] {
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

/** An entry of bull-board's queue listing. */
export interface QueueListing {
  name: string;
  description: string;
  counts: Record<string, number>;
  isPaused: boolean;
  readOnlyMode: boolean;
  allowRetries: boolean;
}

/** Every queue the board lists, as its API lists them. */
export async function listQueues(dashboard: TestDashboard, cookie?: string): Promise<QueueListing[]> {
  const res = await call(dashboard, '/queues/api/queues', { cookie });
  expect(res.status).toBe(200);
  return ((await res.json()) as { queues: QueueListing[] }).queues;
}

/** The `group-messages` entry of the listing, checking that no other queue is listed. */
export async function listGroupMessages(dashboard: TestDashboard, cookie?: string): Promise<QueueListing> {
  const queues = await listQueues(dashboard, cookie);
  expect(queues.map((each) => each.name)).toEqual([...ALL_QUEUES]);
  const listing = queues.find((each) => each.name === INGEST_QUEUE);
  if (!listing) {
    throw new Error('group-messages is not listed');
  }
  return listing;
}

const SCHEDULER = 'nightly-report';

/** Fills the queue with one job in each state an action could change, and a job scheduler. */
export async function fill(dashboard: TestDashboard) {
  const [failed = ''] = await addFailedJobs(dashboard, 1);
  const [waiting = ''] = await addJobs(dashboard, 1);
  const [delayed = ''] = await addJobs(dashboard, 1, { delay: 3_600_000 });
  await dashboard.queue.upsertJobScheduler(SCHEDULER, { every: 3_600_000 });
  return { failed, waiting, delayed };
}

/** What an action could change, read from Redis. */
export async function snapshot(queue: Queue) {
  const jobs = await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed']);
  const described = await Promise.all(
    jobs.map(async (job) => ({
      id: job.id,
      state: await job.getState(),
      data: job.data as unknown,
      delay: job.delay,
      priority: job.priority,
    })),
  );
  return {
    paused: await queue.isPaused(),
    counts: await queue.getJobCounts(),
    jobs: described.sort((a, b) => String(a.id).localeCompare(String(b.id))),
    schedulers: (await queue.getJobSchedulers()).map(({ key, every }) => ({ key, every })),
    globalConcurrency: await queue.getGlobalConcurrency(),
    rateLimitTtl: await queue.getRateLimitTtl(),
  };
}

/**
 * Calls one of bull-board's action routes (`/api/queues/:queueName/...`) on group-messages, on job
 * `jobId` and SCHEDULER, as the board's page would, with a body bull-board would act on.
 */
export function callRoute(dashboard: TestDashboard, cookie: string, method: string, route: string, jobId: string) {
  const path = route
    .replace(':queueName', 'group-messages')
    .replace(':queueStatus', 'failed')
    .replace(':jobId', jobId)
    .replace(':schedulerId', SCHEDULER);
  return call(dashboard, `/queues${path}`, {
    method,
    cookie,
    headers: { ...SAME_ORIGIN, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'group-message',
      data: { forged: true },
      jobData: { forged: true },
      concurrency: 1,
      max: 1,
      duration: 1000,
      delay: 1000,
      priority: 1,
      every: 1000,
      force: true,
    }),
  });
}

/** The error envelope (@imsync/runtime's errorResponse) of an answer with this status, code and message. */
export function errorBody(status: number, code: string, message: string) {
  return { error: STATUS_CODES[status], code, message, requestId: expect.any(String) };
}

/**
 * Calls `method route` (see callRoute) on a queue filled with a job in every state, and checks it
 * is refused with 403 and `refusal`'s code and message, and that Redis holds what it held before.
 */
export async function expectRefusedAndUnchanged(
  dashboard: TestDashboard,
  method: string,
  route: string,
  refusal: { code: string; message: string },
) {
  const { failed } = await fill(dashboard);
  const cookie = await signIn(dashboard);
  const before = await snapshot(dashboard.queue);
  const res = await callRoute(dashboard, cookie, method, route, failed);
  expect(res.status).toBe(403);
  expect(await res.json()).toEqual(errorBody(403, refusal.code, refusal.message));
  expect(await snapshot(dashboard.queue)).toEqual(before);
}

/** What a user without a session gets: the API answers 401, a page sends to the login. */
export async function expectSignedOut(dashboard: TestDashboard, cookie: string) {
  const api = await call(dashboard, '/queues/api/queues', { cookie });
  expect(api.status).toBe(401);
  expect(await api.json()).toEqual(errorBody(401, 'sign_in_required', 'sign in first'));
  const page = await call(dashboard, '/queues', { cookie });
  expect(page.status).toBe(302);
  expect(page.headers.get('location')).toBe('/login?next=%2Fqueues');
}
