import { appRoutes } from '@bull-board/api/dist/routes.js';
import type { Queue } from 'bullmq';
import { describe, expect } from 'vitest';
import {
  addFailedJobs,
  addJobs,
  call,
  listGroupMessages,
  SAME_ORIGIN,
  signIn,
  type TestDashboard,
  test,
} from './support.js';

// DASHBOARD_READ_ONLY: the board shows queues and jobs but refuses every action. bull-board only
// hides its buttons (and answers 405 for its own read-only queues); the dashboard refuses every
// non-GET API call itself (403) before bull-board sees it, so no action reaches Redis.

/** Every state-changing route bull-board serves, read from bull-board itself so new ones are covered. */
const ACTION_ROUTES = appRoutes.api.flatMap(({ method, route }) => {
  const methods = (Array.isArray(method) ? method : [method]).filter((each) => each !== 'get');
  const paths = Array.isArray(route) ? route : [route];
  return methods.flatMap((each) => paths.map((path) => ({ method: each.toUpperCase(), route: path })));
});

const SCHEDULER = 'nightly-report';

/** Fills the queue with one job in each state an action could change, and a job scheduler. */
async function fill(dashboard: TestDashboard) {
  const [failed = ''] = await addFailedJobs(dashboard, 1);
  const [waiting = ''] = await addJobs(dashboard, 1);
  const [delayed = ''] = await addJobs(dashboard, 1, { delay: 3_600_000 });
  await dashboard.queue.upsertJobScheduler(SCHEDULER, { every: 3_600_000 });
  return { failed, waiting, delayed };
}

/** What an action could change, read from Redis. */
async function snapshot(queue: Queue) {
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

describe('read-only board', () => {
  test.override('dashboardOptions', { readOnly: true });

  test('lists the queues and their counts and says it is read-only', async ({ dashboard }) => {
    await fill(dashboard);
    const cookie = await signIn(dashboard);
    const listing = await listGroupMessages(dashboard, cookie);
    expect(listing).toMatchObject({ readOnlyMode: true, allowRetries: false, isPaused: false });
    // The scheduler's first job waits at once.
    expect(listing.counts).toMatchObject({ failed: 1, waiting: 2, delayed: 1 });

    const [job = ''] = await addJobs(dashboard, 1);
    const read = await call(dashboard, `/queues/api/queues/group-messages/${job}`, { cookie });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ job: { id: job }, status: 'waiting' });
  });

  test('the list of actions is bull-board’s own and covers the ones users reach for', () => {
    const names = ACTION_ROUTES.map(({ method, route }) => `${method} ${route}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'PUT /api/queues/pause',
        'PUT /api/queues/:queueName/pause',
        'PUT /api/queues/:queueName/retry/:queueStatus',
        'PUT /api/queues/:queueName/clean/:queueStatus',
        'PUT /api/queues/:queueName/:jobId/retry',
        'PUT /api/queues/:queueName/empty',
        'PUT /api/queues/:queueName/obliterate',
        'POST /api/queues/:queueName/add',
        'PATCH /api/queues/:queueName/:jobId/update-data',
      ]),
    );
  });

  test.for(ACTION_ROUTES.map(({ method, route }) => [method, route] as const))(
    '%s %s is refused and Redis is unchanged',
    async ([method, route], { dashboard }) => {
      const { failed } = await fill(dashboard);
      const cookie = await signIn(dashboard);
      const before = await snapshot(dashboard.queue);
      const path = route
        .replace(':queueName', 'group-messages')
        .replace(':queueStatus', 'failed')
        .replace(':jobId', failed)
        .replace(':schedulerId', SCHEDULER);
      // Bodies bull-board would act on, were the call let through.
      const res = await call(dashboard, `/queues${path}`, {
        method,
        cookie,
        headers: { ...SAME_ORIGIN, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'group-message',
          data: { forged: true },
          concurrency: 1,
          max: 1,
          duration: 1000,
          delay: 1000,
          priority: 1,
          every: 1000,
          force: true,
        }),
      });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: 'the dashboard is read-only' });
      expect(await snapshot(dashboard.queue)).toEqual(before);
    },
  );

  test('methods bull-board does not serve are refused the same way', async ({ dashboard }) => {
    const cookie = await signIn(dashboard);
    for (const method of ['DELETE', 'POST', 'PATCH']) {
      const res = await call(dashboard, '/queues/api/queues/group-messages/pause', {
        method,
        cookie,
        headers: { ...SAME_ORIGIN },
      });
      expect(res.status, method).toBe(403);
    }
    expect(await dashboard.queue.isPaused()).toBe(false);
  });

  test('login still applies: without a session the API answers 401', async ({ dashboard }) => {
    const res = await call(dashboard, '/queues/api/queues');
    expect(res.status).toBe(401);
  });
});
