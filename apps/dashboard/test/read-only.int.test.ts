import { describe, expect } from 'vitest';
import { ACTION_ROUTES } from '../src/action-policy.js';
import {
  addJobs,
  call,
  expectRefusedAndUnchanged,
  fill,
  listGroupMessages,
  SAME_ORIGIN,
  signIn,
  test,
} from './support.js';

// DASHBOARD_READ_ONLY: the board shows queues and jobs but refuses every action. bull-board only
// hides its buttons (and answers 405 for its own read-only queues); the dashboard refuses every
// non-GET API call itself (403) before bull-board sees it, so no action reaches Redis.

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
    ([method, route], { dashboard }) =>
      expectRefusedAndUnchanged(dashboard, method, route, { code: 'read_only', message: 'the dashboard is read-only' }),
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
