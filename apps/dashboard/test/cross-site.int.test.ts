import { expect } from 'vitest';
import {
  addJobs,
  CREDENTIALS,
  call,
  errorBody,
  HOST,
  ORIGIN,
  postLogin,
  SAME_ORIGIN,
  sessionSetCookie,
  signIn,
  type TestDashboard,
  test,
} from './support.js';

// Behind the SameSite=Strict cookie, a second line: a state-changing request that a page of
// another site made (Origin or Sec-Fetch-Site say so) is refused before it reaches bull-board,
// even when it carries a valid session.

const PAUSE = '/queues/api/queues/group-messages/pause';

/** What browsers send when a page on another site posts to the dashboard. */
const CROSS_SITE: Record<string, Record<string, string>> = {
  'Origin of another site': { origin: 'https://evil.example' },
  'Origin of another site, Sec-Fetch-Site missing': { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' },
  'Origin: null (sandboxed frame)': { origin: 'null' },
  'Origin of a sibling subdomain': { origin: 'http://other.dash.test' },
  'Origin on another port': { origin: `${ORIGIN}:8443` },
  'Sec-Fetch-Site: cross-site': { 'sec-fetch-site': 'cross-site' },
  'Sec-Fetch-Site: same-site': { 'sec-fetch-site': 'same-site' },
  'Sec-Fetch-Site: cross-site with our Origin': { origin: ORIGIN, 'sec-fetch-site': 'cross-site' },
};

function pause(dashboard: TestDashboard, cookie: string, headers: Record<string, string>) {
  return call(dashboard, PAUSE, { method: 'PUT', cookie, headers });
}

test('a cross-site action with a valid session is refused and the queue is not paused', async ({ dashboard }) => {
  const cookie = await signIn(dashboard);
  for (const [name, headers] of Object.entries(CROSS_SITE)) {
    const res = await pause(dashboard, cookie, headers);
    expect(res.status, name).toBe(403);
    expect(await res.json(), name).toEqual(errorBody(403, 'cross_site', 'cross-site request refused'));
    expect(await dashboard.queue.isPaused(), name).toBe(false);
  }
});

test('the same action from the board itself pauses the queue in Redis', async ({ dashboard }) => {
  const cookie = await signIn(dashboard);
  const res = await pause(dashboard, cookie, { ...SAME_ORIGIN });
  expect(res.status).toBe(200);
  expect(await dashboard.queue.isPaused()).toBe(true);

  // Origin alone (older browsers send no Sec-Fetch-Site) and a request with neither header
  // (curl, scripts; no browser leaves both out of a cross-site request) are served too.
  const resume = await call(dashboard, '/queues/api/queues/group-messages/resume', {
    method: 'PUT',
    cookie,
    headers: { origin: ORIGIN },
  });
  expect(resume.status).toBe(200);
  expect(await dashboard.queue.isPaused()).toBe(false);
  expect((await pause(dashboard, cookie, {})).status).toBe(200);
  expect(await dashboard.queue.isPaused()).toBe(true);
});

test('a cross-site POST that would add a job to the queue is refused', async ({ dashboard }) => {
  const cookie = await signIn(dashboard);
  // A form post needs no CORS preflight: only the origin check stops it.
  const res = await call(dashboard, '/queues/api/queues/group-messages/add', {
    method: 'POST',
    cookie,
    headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
    body: JSON.stringify({ name: 'group-message', data: { body: 'forged' } }),
  });
  expect(res.status).toBe(403);
  expect(await dashboard.queue.getJobCounts()).toMatchObject({ waiting: 0, delayed: 0, prioritized: 0 });
});

test('a cross-site promote or empty leaves the delayed jobs alone', async ({ dashboard }) => {
  const ids = await addJobs(dashboard, 2, { delay: 3_600_000 });
  const cookie = await signIn(dashboard);
  for (const path of ['/queues/api/queues/group-messages/promote', '/queues/api/queues/group-messages/empty']) {
    const res = await call(dashboard, path, { method: 'PUT', cookie, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(res.status, path).toBe(403);
  }
  expect(await Promise.all(ids.map((id) => dashboard.queue.getJobState(id)))).toEqual(['delayed', 'delayed']);
});

test('a cross-site login is refused and starts no session', async ({ dashboard }) => {
  for (const [name, headers] of Object.entries(CROSS_SITE)) {
    const res = await postLogin(dashboard, { ...CREDENTIALS }, { host: HOST, ...headers });
    expect(res.status, name).toBe(403);
    expect(sessionSetCookie(res), name).toBeUndefined();
  }
  // The same form posted from the login page works.
  const res = await postLogin(dashboard, { ...CREDENTIALS });
  expect(res.status).toBe(303);
  expect(sessionSetCookie(res)).toBeDefined();
});

test('a cross-site logout is refused and leaves the session cookie alone', async ({ dashboard }) => {
  const cookie = await signIn(dashboard);
  const res = await call(dashboard, '/logout', {
    method: 'POST',
    cookie,
    headers: { origin: 'https://evil.example' },
  });
  expect(res.status).toBe(403);
  expect(sessionSetCookie(res)).toBeUndefined();
});

test('a link from another site to a board page leads through the login, not to a refusal', async ({ dashboard }) => {
  // SameSite=Strict keeps the cookie off this navigation, so the login page comes first.
  const res = await call(dashboard, '/queues/queue/group-messages', {
    headers: { 'sec-fetch-site': 'cross-site' },
  });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('/login?next=%2Fqueues%2Fqueue%2Fgroup-messages');
});
