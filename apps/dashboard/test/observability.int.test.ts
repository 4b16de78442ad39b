import { startRedis, waitFor } from '@imsync/testing';
import { expect } from 'vitest';
import {
  action,
  addFailedJobs,
  addJobs,
  CREDENTIALS,
  call,
  errorBody,
  listGroupMessages,
  metricValue,
  openDashboard,
  postLogin,
  signIn,
  type TestDashboard,
  test,
} from './support.js';

// /healthz, /readyz and /metrics answer without a login (probes and Prometheus have none), and
// every request leaves one log line saying what was asked, the answer and how long it took.

const QUEUE = { queue: 'group-messages' };

async function readiness(dashboard: TestDashboard) {
  const res = await call(dashboard, '/readyz');
  return {
    status: res.status,
    body: (await res.json()) as { status: string; failing?: string[]; checks: Record<string, string> },
  };
}

test('/healthz answers 200 without a login', async ({ dashboard }) => {
  const res = await call(dashboard, '/healthz');
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'ok' });
});

test('/readyz is 200 with redis ok while Redis answers', async ({ dashboard }) => {
  expect(await readiness(dashboard)).toEqual({ status: 200, body: { status: 'ready', checks: { redis: 'ok' } } });
});

test('/readyz is 503 naming redis when the Redis check fails', async ({ redis }) => {
  const dashboard = await openDashboard(redis.url, { ping: () => Promise.reject(new Error('connection refused')) });
  expect(await readiness(dashboard)).toEqual({
    status: 503,
    body: { status: 'unready', failing: ['redis'], checks: { redis: 'error: connection refused' } },
  });
});

test('Redis stopped: /readyz is 503 naming redis, /healthz stays 200, and ready again once it is back', async ({
  onTestFinished,
}) => {
  const own = await startRedis();
  onTestFinished(() => own.dispose());
  const dashboard = await openDashboard(own.url);
  expect((await readiness(dashboard)).status).toBe(200);

  await own.stop('graceful');
  try {
    const down = await readiness(dashboard);
    expect(down.status).toBe(503);
    expect(down.body.failing).toEqual(['redis']);
    expect(down.body.checks.redis).not.toBe('ok');
    // Liveness must not fail with a dependency, or the orchestrator restarts a healthy process.
    expect((await call(dashboard, '/healthz')).status).toBe(200);
  } finally {
    await own.start();
  }
  await waitFor(async () => (await readiness(dashboard)).status === 200, {
    timeoutMs: 15_000,
    what: '/readyz to answer 200 again',
  });
});

test('/metrics counts the jobs of group-messages by state, without a login', async ({ dashboard }) => {
  expect(await metricValue(dashboard, 'imsync_queue_jobs', { ...QUEUE, state: 'waiting' })).toBe(0);
  await addFailedJobs(dashboard, 2);
  await addJobs(dashboard, 4);
  await addJobs(dashboard, 1, { delay: 3_600_000 });
  await addJobs(dashboard, 3, { priority: 5 });

  const expected = { waiting: 4, delayed: 1, prioritized: 3, failed: 2, active: 0, completed: 0 };
  for (const [state, count] of Object.entries(expected)) {
    expect(await metricValue(dashboard, 'imsync_queue_jobs', { ...QUEUE, state, service: 'dashboard' }), state).toBe(
      count,
    );
  }
});

test('/metrics reports 1 for a paused queue, and its waiting jobs still count', async ({ dashboard }) => {
  await addJobs(dashboard, 3);
  expect(await metricValue(dashboard, 'imsync_queue_paused', QUEUE)).toBe(0);

  const cookie = await signIn(dashboard);
  expect((await action(dashboard, '/queues/group-messages/pause', cookie)).status).toBe(200);
  expect(await metricValue(dashboard, 'imsync_queue_paused', QUEUE)).toBe(1);
  expect(await metricValue(dashboard, 'imsync_queue_jobs', { ...QUEUE, state: 'waiting' })).toBe(3);

  expect((await action(dashboard, '/queues/group-messages/resume', cookie)).status).toBe(200);
  expect(await metricValue(dashboard, 'imsync_queue_paused', QUEUE)).toBe(0);
});

test('the oldest waiting age is the age of the job that has waited longest', async ({ dashboard }) => {
  const age = () => metricValue(dashboard, 'imsync_queue_oldest_waiting_age_seconds', QUEUE);
  expect(await age()).toBe(0);

  // The first job was created 90 s ago (its timestamp); the ones behind it are new.
  await addJobs(dashboard, 1, { timestamp: Date.now() - 90_000 });
  await addJobs(dashboard, 2);
  const seconds = await age();
  expect(seconds).toBeGreaterThanOrEqual(90);
  expect(seconds).toBeLessThan(120);
});

test('the oldest waiting age grows while a job waits, and is 0 once none waits', async ({ dashboard }) => {
  const age = () => metricValue(dashboard, 'imsync_queue_oldest_waiting_age_seconds', QUEUE);
  const [id = ''] = await addJobs(dashboard, 1);
  const first = await waitFor(async () => {
    const value = await age();
    return value > 0 ? value : undefined;
  });
  await waitFor(async () => (await age()) > first, { what: 'the oldest waiting age to grow' });

  await dashboard.queue.remove(id);
  expect(await age()).toBe(0);
});

test('an error answer names the request id of its X-Request-Id header and of its log line', async ({ dashboard }) => {
  const res = await call(dashboard, '/no-such-page');
  expect(res.status).toBe(404);
  const body = (await res.json()) as { requestId: string };
  expect(body).toEqual(errorBody(404, 'not_found', 'no such route: GET /no-such-page'));
  expect(body.requestId).toBe(res.headers.get('x-request-id'));
  const line = dashboard.logLines.find((each) => each.msg === 'request' && each.path === '/no-such-page');
  expect(line?.requestId).toBe(body.requestId);
});

test('every request leaves one log line with request id, method, path, status and duration', async ({ dashboard }) => {
  const cookie = await signIn(dashboard);
  const requests: [method: string, path: string, status: number][] = [['POST', '/login', 303]];

  const send = async (method: string, path: string, init: Parameters<typeof call>[2] = {}) => {
    const res = await call(dashboard, path, { method, ...init });
    requests.push([method, path.split('?')[0] ?? path, res.status]);
  };
  await send('GET', '/healthz');
  await send('GET', '/queues');
  await send('GET', '/queues/api/queues', { cookie });
  await send('GET', '/queues/api/queues');
  await send('PUT', '/queues/api/queues/group-messages/pause', { cookie, headers: { origin: 'https://evil.example' } });
  await send('GET', '/login?next=%2Fqueues');
  await send('GET', '/no-such-page');
  const wrong = await postLogin(dashboard, { user: 'admin', password: 'not-the-password' });
  requests.push(['POST', '/login', wrong.status]);

  const lines = dashboard.logLines.filter((line) => line.msg === 'request');
  expect(lines.map((line) => [line.method, line.path, line.status])).toEqual(requests);
  expect(requests.map(([, , status]) => status)).toEqual([303, 200, 302, 200, 401, 403, 200, 404, 303]);
  for (const line of lines) {
    expect(line).toMatchObject({ level: 'info', requestId: expect.any(String), durationMs: expect.any(Number) });
    expect(line.durationMs).toBeGreaterThanOrEqual(0);
  }
  // A wrong password costs half a second, and the line says so.
  expect(lines.at(-1)?.durationMs).toBeGreaterThanOrEqual(450);
  // Neither the password nor the session cookie ever reaches the log.
  const logged = JSON.stringify(dashboard.logLines);
  expect(logged).not.toContain(CREDENTIALS.password);
  expect(logged).not.toContain('not-the-password');
  expect(logged).not.toContain(cookie.split('=')[1]);
});

test('the ingest queue says what it carries, read from the callback catalog', async ({ dashboard }) => {
  const listing = await listGroupMessages(dashboard, await signIn(dashboard));
  for (const kind of ['group-message', 'group-recall', 'c2c-message', 'c2c-recall', 'group-event']) {
    expect(listing.description).toContain(`${kind} (`);
  }
  expect(listing.description).toContain('C2C.CallbackAfterMsgWithDraw');
  expect(listing.description).toContain('Group.CallbackAfterMemberExit');
});
