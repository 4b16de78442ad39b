import { describe, expect } from 'vitest';
import { ACTION_ROUTES, ALLOWED_ACTIONS, REFUSED } from '../src/action-policy.js';
import {
  action,
  addFailedJobs,
  addJobs,
  call,
  callRoute,
  expectRefusedAndUnchanged,
  fill,
  listGroupMessages,
  SAME_ORIGIN,
  signIn,
  snapshot,
  test,
} from './support.js';

// Every message in the queues was already acknowledged to Tencent, which will not send it again.
// By default the board allows only what keeps them (retry, promote, pause, resume, clean of
// finished jobs); the actions that delete or forge messages answer 403 and change nothing in
// Redis. DASHBOARD_ALLOW_DESTRUCTIVE=true lets them through.

const isAllowed = ({ method, route }: { method: string; route: string }) => `${method} ${route}` in ALLOWED_ACTIONS;
const REFUSED_ROUTES = ACTION_ROUTES.filter((each) => !isAllowed(each));

test('the refused actions include every one that deletes or forges a message', () => {
  expect(REFUSED_ROUTES.map(({ method, route }) => `${method} ${route}`)).toEqual(
    expect.arrayContaining([
      'POST /api/queues/:queueName/add',
      'PATCH /api/queues/:queueName/:jobId/update-data',
      'PUT /api/queues/:queueName/empty',
      'PUT /api/queues/:queueName/obliterate',
      'PUT /api/queues/:queueName/:jobId/clean',
      'PUT /api/queues/:queueName/:jobId/remove-unprocessed-children',
      'PUT /api/queues/:queueName/job-schedulers/:schedulerId/remove',
      'PUT /api/queues/:queueName/job-schedulers/:schedulerId/run',
    ]),
  );
  // Every allowed action names a route bull-board still serves: a renamed one would be refused unseen.
  const served = ACTION_ROUTES.map(({ method, route }) => `${method} ${route}`);
  expect(served).toEqual(expect.arrayContaining(Object.keys(ALLOWED_ACTIONS)));
});

test.for(REFUSED_ROUTES.map(({ method, route }) => [method, route] as const))(
  '%s %s is refused by default and Redis is unchanged',
  ([method, route], { dashboard }) => expectRefusedAndUnchanged(dashboard, method, route, REFUSED),
);

test('obliterating a paused queue (the one case bull-board would do it) is refused', async ({ dashboard }) => {
  const { failed, waiting } = await fill(dashboard);
  const cookie = await signIn(dashboard);
  expect((await action(dashboard, '/queues/group-messages/pause', cookie)).status).toBe(200);
  const before = await snapshot(dashboard.queue);
  const res = await callRoute(dashboard, cookie, 'PUT', '/api/queues/:queueName/obliterate', failed);
  expect(res.status).toBe(403);
  expect(await snapshot(dashboard.queue)).toEqual(before);
  expect(await dashboard.queue.getJobState(waiting)).toBe('waiting');
});

test('cleaning jobs that are not finished is refused: waiting, delayed and active jobs are messages not yet stored', async ({
  dashboard,
}) => {
  const { waiting, delayed } = await fill(dashboard);
  const cookie = await signIn(dashboard);
  const before = await snapshot(dashboard.queue);
  // `%77ait` is `wait` once bull-board has decoded it.
  for (const status of ['wait', 'delayed', 'active', 'paused', 'prioritized', '%77ait', 'WAIT']) {
    const res = await action(dashboard, `/queues/group-messages/clean/${status}`, cookie);
    expect(res.status, status).toBe(403);
  }
  expect(await snapshot(dashboard.queue)).toEqual(before);
  expect(await dashboard.queue.getJobState(waiting)).toBe('waiting');
  expect(await dashboard.queue.getJobState(delayed)).toBe('delayed');
});

test('the allowed actions still act: retry, promote, pause, resume and clean of completed jobs', async ({
  dashboard,
}) => {
  const [failed = ''] = await addFailedJobs(dashboard, 1);
  const [delayed = ''] = await addJobs(dashboard, 1, { delay: 3_600_000 });
  const cookie = await signIn(dashboard);

  expect((await action(dashboard, `/queues/group-messages/${failed}/retry`, cookie)).status).toBe(204);
  expect(await dashboard.queue.getJobState(failed)).toBe('waiting');
  expect((await action(dashboard, `/queues/group-messages/${delayed}/promote`, cookie)).status).toBe(204);
  expect(await dashboard.queue.getJobState(delayed)).toBe('waiting');
  expect((await action(dashboard, '/queues/pause', cookie)).status).toBe(200);
  expect(await dashboard.queue.isPaused()).toBe(true);
  expect((await action(dashboard, '/queues/resume', cookie)).status).toBe(200);
  expect(await dashboard.queue.isPaused()).toBe(false);
  expect((await action(dashboard, '/queues/group-messages/clean/completed', cookie)).status).toBe(200);
  expect((await action(dashboard, '/queues/group-messages/promote', cookie)).status).toBe(200);
  expect((await action(dashboard, '/queues/group-messages/retry/completed', cookie)).status).toBe(200);
});

test('reading stays open: every GET of the API answers', async ({ dashboard }) => {
  const [job = ''] = await addJobs(dashboard, 1);
  const cookie = await signIn(dashboard);
  expect((await listGroupMessages(dashboard, cookie)).readOnlyMode).toBe(false);
  for (const path of [`/queues/api/queues/group-messages/${job}`, `/queues/api/queues/group-messages/${job}/logs`]) {
    expect((await call(dashboard, path, { cookie })).status, path).toBe(200);
  }
});

test('methods and paths bull-board does not serve are refused too', async ({ dashboard }) => {
  const cookie = await signIn(dashboard);
  for (const [method, path] of [
    ['DELETE', '/queues/api/queues/group-messages'],
    ['POST', '/queues/api/queues/group-messages/empty'],
    ['PUT', '/queues/api/queues/group-messages/empty/'],
    ['PUT', '/queues/api/queues/group-messages/no-such-action'],
  ] as const) {
    const res = await call(dashboard, path, { method, cookie, headers: { ...SAME_ORIGIN } });
    expect(res.status, `${method} ${path}`).toBe(403);
  }
});

describe('with DASHBOARD_ALLOW_DESTRUCTIVE=true', () => {
  test.override('dashboardOptions', { allowDestructive: true });

  test('a job can be added, edited and removed, and a queue emptied and obliterated', async ({ dashboard }) => {
    const cookie = await signIn(dashboard);
    const [removed = '', edited = ''] = await addFailedJobs(dashboard, 2);
    const added = await callRoute(dashboard, cookie, 'POST', '/api/queues/:queueName/add', '');
    expect(added.status).toBe(200);
    expect(await dashboard.queue.getJobCounts('waiting')).toEqual({ waiting: 1 });

    expect((await action(dashboard, `/queues/group-messages/${removed}/clean`, cookie)).status).toBe(204);
    expect(await dashboard.queue.getJob(removed)).toBeUndefined();
    const edit = await callRoute(dashboard, cookie, 'PATCH', '/api/queues/:queueName/:jobId/update-data', edited);
    expect(edit.status).toBe(200);
    expect((await dashboard.queue.getJob(edited))?.data).toEqual({ forged: true });

    expect((await action(dashboard, '/queues/group-messages/empty', cookie)).status).toBe(200);
    expect(await dashboard.queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
    // bull-board obliterates only a paused queue.
    expect((await action(dashboard, '/queues/group-messages/pause', cookie)).status).toBe(200);
    expect((await action(dashboard, '/queues/group-messages/obliterate', cookie)).status).toBe(200);
    expect(await dashboard.queue.getJob(edited)).toBeUndefined();
  });

  test('cleaning waiting jobs goes through', async ({ dashboard }) => {
    await addJobs(dashboard, 2, { timestamp: Date.now() - 60_000 });
    const cookie = await signIn(dashboard);
    expect((await action(dashboard, '/queues/group-messages/clean/wait', cookie)).status).toBe(200);
    expect(await dashboard.queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
  });
});
