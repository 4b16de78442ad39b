import {
  ALL_QUEUES,
  createQueueLayout,
  DELIVERY_JOB,
  type DeliveryJobData,
  deliveryQueueName,
  destinationsKey,
} from '@imsync/queue';
import { createCaptureLogger, startRedis, waitFor } from '@imsync/testing';
import { type JobsOptions, Queue } from 'bullmq';
import { describe, expect, onTestFinished } from 'vitest';
import { REFUSED } from '../src/action-policy.js';
import { startDestinationDiscovery } from '../src/destination-queues.js';
import {
  action,
  call,
  test as dashboardTest,
  errorBody,
  failJobs,
  listQueues,
  metricValue,
  openDashboard,
  signIn,
  type TestDashboard,
} from './support.js';

// Each destination's deliveries show on the board as a queue of their own (waiting, failed,
// retry, pause), found in the set of destination names the workers write when they start, and
// its metrics come with it. The board reads the set every 50 ms here (10 s when served).

const DISCOVERY_INTERVAL_MS = 50;
/** Long enough for many reads of the set, far shorter than the 10 s a board reads it at by default. */
const FOUND_WITHIN_MS = 3000;

const test = dashboardTest.extend('dashboardOptions', { discoveryIntervalMs: DISCOVERY_INTERVAL_MS });

/** What a worker does when it starts with these destinations. */
async function addDestinations(dashboard: TestDashboard, ...names: string[]) {
  await dashboard.redis.sadd(destinationsKey(dashboard.prefix), ...names);
}

/** The names of the queues the board lists, once `queueName` is among them. */
async function waitForQueue(dashboard: TestDashboard, queueName: string, cookie?: string) {
  return waitFor(
    async () => {
      const queues = await listQueues(dashboard, cookie);
      return queues.some((each) => each.name === queueName) && queues;
    },
    { timeoutMs: FOUND_WITHIN_MS, what: `${queueName} to be listed` },
  );
}

/** Adds `count` deliveries as the fan-out does (the event key as the job id) and returns their ids. */
async function addDeliveries(queue: Queue<DeliveryJobData>, count: number, options: JobsOptions = {}) {
  const ids: string[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const key = `event-${seq}-${Math.random().toString(36).slice(2)}`;
    const data = {
      id: key,
      key,
      command: 'Group.CallbackAfterSendMsg',
      sdkAppId: '1600012345',
      receivedAt: 0,
      body: '{}',
    };
    await queue.add(DELIVERY_JOB, data, { jobId: key, ...options });
    ids.push(key);
  }
  return ids;
}

test('a destination added after the board started shows as its own queue, saying what it is', async ({ dashboard }) => {
  const cookie = await signIn(dashboard);
  expect((await listQueues(dashboard, cookie)).map((each) => each.name)).toEqual([...ALL_QUEUES]);

  await addDestinations(dashboard, 'crm');
  const queues = await waitForQueue(dashboard, 'deliver-crm', cookie);
  expect(queues.map((each) => each.name)).toEqual([...ALL_QUEUES, 'deliver-crm']);
  const crm = queues.find((each) => each.name === 'deliver-crm');
  expect(crm?.description).toMatch(/^Deliveries to crm: /);
  expect(crm?.description).toContain('failed set is its dead-letter queue');
  expect(crm?.description).toContain('retry re-sends');
  expect(crm?.description).toContain('pause stops deliveries');
  expect(crm).toMatchObject({ readOnlyMode: false, isPaused: false, counts: { waiting: 0, failed: 0 } });
  expect(dashboard.logLines).toContainEqual(
    expect.objectContaining({ level: 'info', msg: 'destination queue found', destination: 'crm' }),
  );
});

test('a destination already in the set when the board starts is shown from its first read', async ({
  dashboard,
  redis,
}) => {
  await addDestinations(dashboard, 'warehouse');
  // A board started now reads the set at once: well before its next read, a minute later.
  const later = await openDashboard(redis.url, { prefix: dashboard.prefix, discoveryIntervalMs: 60_000 });
  const queues = await waitForQueue(later, 'deliver-warehouse', await signIn(later));
  expect(queues.map((each) => each.name)).toEqual([...ALL_QUEUES, 'deliver-warehouse']);
});

test('whoever listens after queues were found hears of them at once, then of each found later', async ({
  dashboard,
}) => {
  await addDestinations(dashboard, 'crm', 'erp');
  const { logger } = createCaptureLogger('discovery');
  const opened: string[] = [];
  const discovery = startDestinationDiscovery({
    redis: dashboard.redis,
    layout: createQueueLayout({ prefix: dashboard.prefix, shards: 1, cluster: false }),
    openQueue: ({ name, prefix }) => {
      opened.push(name);
      return new Queue(name, { connection: dashboard.redis, prefix });
    },
    logger,
    // Only the first read (at start) and the reads below: the next timed one is a minute away.
    intervalMs: 60_000,
  });
  onTestFinished(() => discovery.close());
  await discovery.refresh();
  const heard: string[] = [];
  discovery.onFound(({ destination, queue }) => heard.push(`${destination} ${queue.name}`));
  expect(heard).toEqual(['crm deliver-crm', 'erp deliver-erp']);

  await addDestinations(dashboard, 'billing');
  await discovery.refresh();
  expect(heard).toEqual(['crm deliver-crm', 'erp deliver-erp', 'billing deliver-billing']);
  expect(discovery.list().map(({ destination }) => destination)).toEqual(['crm', 'erp', 'billing']);
  expect(opened).toEqual(['deliver-crm', 'deliver-erp', 'deliver-billing']);
});

test('a name that is not a destination name is logged once and skipped; the others show', async ({ dashboard }) => {
  const bad = ['Bad_Name', '../../etc', '-leading-dash', 'a'.repeat(64), 'with space', ''];
  await addDestinations(dashboard, ...bad, 'ok-1');
  const cookie = await signIn(dashboard);
  await waitForQueue(dashboard, 'deliver-ok-1', cookie);

  // Reads go on: a later destination shows, and a bad name read again is not logged again.
  await addDestinations(dashboard, 'later');
  const queues = await waitForQueue(dashboard, 'deliver-later', cookie);
  expect(queues.map((each) => each.name)).toEqual([...ALL_QUEUES, 'deliver-ok-1', 'deliver-later']);
  const skipped = dashboard.logLines.filter((line) => String(line.msg).startsWith('skipped a destination'));
  expect(skipped.map((line) => line.destination).sort()).toEqual([...bad].sort());
  expect(skipped.every((line) => line.level === 'warn')).toBe(true);
});

test('a failed delivery is retried, and the queue paused and resumed, through the board’s API', async ({
  dashboard,
}) => {
  await addDestinations(dashboard, 'crm');
  const cookie = await signIn(dashboard);
  await waitForQueue(dashboard, 'deliver-crm', cookie);
  const queue = dashboard.deliveryQueue('crm');
  const [one = '', other = '', third = ''] = await addDeliveries(queue, 3);
  await failJobs(dashboard, 'deliver-crm', [one, other, third]);

  const retried = await action(dashboard, `/queues/deliver-crm/${encodeURIComponent(one)}/retry`, cookie);
  expect(retried.status).toBe(204);
  expect(await queue.getJobState(one)).toBe('waiting');
  expect(await queue.getJobState(other)).toBe('failed');

  const all = await action(dashboard, '/queues/deliver-crm/retry/failed', cookie);
  expect(all.status).toBe(200);
  expect(await all.json()).toEqual({ retried: 2, skipped: 0 });
  expect(await queue.getJobCounts('failed', 'waiting')).toEqual({ failed: 0, waiting: 3 });

  expect((await action(dashboard, '/queues/deliver-crm/pause', cookie)).status).toBe(200);
  expect(await queue.isPaused()).toBe(true);
  expect(await dashboard.queue.isPaused()).toBe(false);
  const paused = (await listQueues(dashboard, cookie)).find((each) => each.name === 'deliver-crm');
  expect(paused?.isPaused).toBe(true);
  expect((await action(dashboard, '/queues/deliver-crm/resume', cookie)).status).toBe(200);
  expect(await queue.isPaused()).toBe(false);
});

test('the actions that would drop or forge deliveries are refused on a delivery queue too', async ({ dashboard }) => {
  await addDestinations(dashboard, 'crm');
  const cookie = await signIn(dashboard);
  await waitForQueue(dashboard, 'deliver-crm', cookie);
  const queue = dashboard.deliveryQueue('crm');
  const [failed = ''] = await addDeliveries(queue, 1);
  await failJobs(dashboard, 'deliver-crm', [failed]);
  const [waiting = ''] = await addDeliveries(queue, 1);
  const [delayed = ''] = await addDeliveries(queue, 1, { delay: 3_600_000 });

  for (const [method, path] of [
    ['PUT', '/queues/deliver-crm/empty'],
    ['PUT', '/queues/deliver-crm/obliterate'],
    ['PUT', '/queues/deliver-crm/clean/wait'],
    ['PUT', '/queues/deliver-crm/clean/delayed'],
    ['PUT', `/queues/deliver-crm/${encodeURIComponent(failed)}/clean`],
    ['POST', '/queues/deliver-crm/add'],
  ] as const) {
    const res = await action(dashboard, path, cookie, method);
    expect(res.status, `${method} ${path}`).toBe(403);
    expect(await res.json()).toEqual(errorBody(403, REFUSED.code, REFUSED.message));
  }
  expect(await Promise.all([failed, waiting, delayed].map((id) => queue.getJobState(id)))).toEqual([
    'failed',
    'waiting',
    'delayed',
  ]);
});

describe('read-only board', () => {
  test.override('dashboardOptions', { discoveryIntervalMs: DISCOVERY_INTERVAL_MS, readOnly: true });

  test('a delivery queue found later is read-only too', async ({ dashboard }) => {
    await addDestinations(dashboard, 'crm');
    const cookie = await signIn(dashboard);
    const queues = await waitForQueue(dashboard, 'deliver-crm', cookie);
    expect(queues.find((each) => each.name === 'deliver-crm')?.readOnlyMode).toBe(true);
    expect((await action(dashboard, '/queues/deliver-crm/pause', cookie)).status).toBe(403);
    expect(await dashboard.deliveryQueue('crm').isPaused()).toBe(false);
  });
});

describe('metrics', () => {
  const CRM = { queue: 'deliver-crm' };

  test('a delivery queue found later is counted by state', async ({ dashboard }) => {
    await addDestinations(dashboard, 'crm');
    await waitForQueue(dashboard, 'deliver-crm', await signIn(dashboard));
    const queue = dashboard.deliveryQueue('crm');
    await addDeliveries(queue, 2);
    await addDeliveries(queue, 1, { delay: 3_600_000 });
    expect(await metricValue(dashboard, 'imsync_queue_jobs', { ...CRM, state: 'waiting' })).toBe(2);
    expect(await metricValue(dashboard, 'imsync_queue_jobs', { ...CRM, state: 'delayed' })).toBe(1);
    expect(await metricValue(dashboard, 'imsync_queue_paused', CRM)).toBe(0);
  });

  test('the oldest pending age is the age of a delivery waiting for its retry, which the waiting age misses', async ({
    dashboard,
  }) => {
    await addDestinations(dashboard, 'crm');
    await waitForQueue(dashboard, 'deliver-crm', await signIn(dashboard));
    const queue = dashboard.deliveryQueue('crm');
    const pending = () => metricValue(dashboard, 'imsync_queue_oldest_pending_age_seconds', CRM);
    expect(await pending()).toBe(0);

    // Added 90 s ago, its first attempt failed: it waits an hour for the next, in the delayed set.
    const [retrying = ''] = await addDeliveries(queue, 1, {
      timestamp: Date.now() - 90_000,
      attempts: 3,
      backoff: { type: 'fixed', delay: 3_600_000 },
    });
    await failJobs(dashboard, 'deliver-crm', [retrying], new Error('503 from the destination'));
    expect(await queue.getJobState(retrying)).toBe('delayed');
    await addDeliveries(queue, 1);

    const seconds = await pending();
    expect(seconds).toBeGreaterThanOrEqual(90);
    expect(seconds).toBeLessThan(120);
    expect(await metricValue(dashboard, 'imsync_queue_oldest_waiting_age_seconds', CRM)).toBeLessThan(30);
  });

  test('the oldest pending age counts prioritized jobs and the jobs of a paused queue', async ({ dashboard }) => {
    await addDestinations(dashboard, 'crm');
    const cookie = await signIn(dashboard);
    await waitForQueue(dashboard, 'deliver-crm', cookie);
    const queue = dashboard.deliveryQueue('crm');
    const pending = () => metricValue(dashboard, 'imsync_queue_oldest_pending_age_seconds', CRM);

    const [prioritized = ''] = await addDeliveries(queue, 1, { timestamp: Date.now() - 90_000, priority: 5 });
    expect(await queue.getJobState(prioritized)).toBe('prioritized');
    expect(await pending()).toBeGreaterThanOrEqual(90);
    await queue.remove(prioritized);
    expect(await pending()).toBe(0);

    expect((await action(dashboard, '/queues/deliver-crm/pause', cookie)).status).toBe(200);
    await addDeliveries(queue, 1, { timestamp: Date.now() - 200_000 });
    expect(await pending()).toBeGreaterThanOrEqual(200);
  });
});

test('with Redis away, /metrics still answers, the board logs each failed read, and finds destinations once it is back', async ({
  onTestFinished,
}) => {
  const own = await startRedis();
  onTestFinished(() => own.dispose());
  const dashboard = await openDashboard(own.url, { login: false, discoveryIntervalMs: DISCOVERY_INTERVAL_MS });
  const names = ['a', 'b', 'c', 'd', 'e'];
  await addDestinations(dashboard, ...names);
  await waitForQueue(dashboard, 'deliver-e');
  expect(await metricValue(dashboard, 'imsync_queue_jobs', { queue: 'deliver-e', state: 'waiting' })).toBe(0);

  await own.stop('graceful');
  try {
    // Every queue is read at once, each giving up after a second: not a second per queue.
    const started = performance.now();
    const res = await call(dashboard, '/metrics');
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(3500);
    // The gauges keep their last values meanwhile.
    expect(await metricValue(dashboard, 'imsync_queue_jobs', { queue: 'deliver-e', state: 'waiting' })).toBe(0);
    await waitFor(
      () => dashboard.logLines.some((line) => line.msg === 'could not read the destinations; trying again later'),
      { what: 'a failed read of the destinations to be logged' },
    );
  } finally {
    await own.start();
  }
  await addDestinations(dashboard, 'f');
  const queues = await waitForQueue(dashboard, deliveryQueueName('f'));
  expect(queues.map((each) => each.name)).toEqual([...ALL_QUEUES, ...[...names, 'f'].map(deliveryQueueName)]);
});
