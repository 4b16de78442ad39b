import { expect, vi } from 'vitest';
import { SESSION_COOKIE } from '../src/auth.js';
import {
  action,
  addJobs,
  CREDENTIALS,
  call,
  errorBody,
  expectSignedOut,
  HOST,
  listGroupMessages,
  openDashboard,
  postLogin,
  SAME_ORIGIN,
  sessionSetCookie,
  signIn,
  test,
} from './support.js';

// The board and its API are behind a login; the session is kept in Redis for 12 hours and named
// by a signed, HttpOnly, SameSite=Strict cookie (sessions.int.test.ts: how sessions end).

const SESSION_MS = 12 * 3600 * 1000;

/** The session cookie `name=value` with its value rewritten (the value is `<session id>.<signature>`). */
function tampered(cookie: string, change: (id: string, signature: string) => string): string {
  const value = decodeURIComponent(cookie.slice(`${SESSION_COOKIE}=`.length));
  const dot = value.lastIndexOf('.');
  return `${SESSION_COOKIE}=${encodeURIComponent(change(value.slice(0, dot), value.slice(dot + 1)))}`;
}

test('without a session the board sends to the login page, its API answers 401 and does nothing', async ({
  dashboard,
}) => {
  const page = await call(dashboard, '/queues');
  expect(page.status).toBe(302);
  expect(page.headers.get('location')).toBe('/login?next=%2Fqueues');

  const deep = await call(dashboard, '/queues/queue/group-messages');
  expect(deep.status).toBe(302);
  expect(deep.headers.get('location')).toBe('/login?next=%2Fqueues%2Fqueue%2Fgroup-messages');

  const api = await call(dashboard, '/queues/api/queues');
  expect(api.status).toBe(401);
  expect(api.headers.get('content-type')).toMatch(/^application\/json/);
  expect(await api.json()).toEqual(errorBody(401, 'sign_in_required', 'sign in first'));

  // Same-origin headers do not stand in for a session.
  const pause = await action(dashboard, '/queues/group-messages/pause', undefined);
  expect(pause.status).toBe(401);
  expect(await dashboard.queue.isPaused()).toBe(false);
});

test('the login page is a plain form that posts user, password and where to go next', async ({ dashboard }) => {
  const res = await call(dashboard, '/login?next=%2Fqueues%2Fqueue%2Fgroup-messages');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  const html = await res.text();
  expect(html).toContain('<form method="post" action="/login">');
  expect(html).toMatch(/<input name="user"[^>]*required/);
  expect(html).toMatch(/<input name="password" type="password"[^>]*required/);
  expect(html).toContain('<input type="hidden" name="next" value="/queues/queue/group-messages" />');
  expect(html).not.toContain('role="alert"');
  expect(html).not.toContain('<script');
});

test('the next value reaches the login page only as a harmless path, never as markup', async ({ dashboard }) => {
  const next = '/queues"><script>alert(1)</script>';
  const html = await (await call(dashboard, `/login?next=${encodeURIComponent(next)}`)).text();
  expect(html).not.toContain('<script>');
  expect(html).toContain('value="/queues%22%3E%3Cscript%3Ealert(1)%3C/script%3E"');
});

test('a wrong user or password leads back to the form with an error, and no session', async ({ dashboard }) => {
  for (const form of [
    { user: 'root', password: CREDENTIALS.password },
    { user: CREDENTIALS.user, password: 'correct-horse-battery-staple' },
    { user: CREDENTIALS.user, password: '' },
  ]) {
    const res = await postLogin(dashboard, { ...form, next: '/queues/queue/group-messages' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?error&next=%2Fqueues%2Fqueue%2Fgroup-messages');
    expect(sessionSetCookie(res)).toBeUndefined();
  }
  const page = await (await call(dashboard, '/login?error&next=%2Fqueues')).text();
  expect(page).toContain('<p class="error" role="alert">Wrong user name or password.</p>');
});

test('the right credentials give an HttpOnly, SameSite=Strict session and lead to next', async ({ dashboard }) => {
  const res = await postLogin(dashboard, { ...CREDENTIALS, next: '/queues/queue/group-messages' });
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/queues/queue/group-messages');
  const setCookie = sessionSetCookie(res) ?? '';
  const attributes = setCookie.split(';').map((each) => each.trim());
  expect(attributes).toEqual(
    expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/', `Max-Age=${SESSION_MS / 1000}`]),
  );
  // Plain HTTP here: a Secure cookie would never come back.
  expect(attributes).not.toContain('Secure');

  const cookie = attributes[0] ?? '';
  const page = await call(dashboard, '/queues/queue/group-messages', { cookie });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<title>imsync</title>');
});

test('with the session, the API lists group-messages with the job counts Redis holds', async ({ dashboard }) => {
  await addJobs(dashboard, 3);
  await addJobs(dashboard, 2, { delay: 3_600_000 });
  const cookie = await signIn(dashboard);
  const listing = await listGroupMessages(dashboard, cookie);
  expect(listing).toMatchObject({ name: 'group-messages', isPaused: false, readOnlyMode: false, allowRetries: true });
  expect(listing.counts).toMatchObject({ waiting: 3, delayed: 2, active: 0, completed: 0, failed: 0 });
});

test('over HTTPS the session cookie is Secure as well', async ({ dashboard }) => {
  const res = await dashboard.app.request(`https://${HOST}/login`, {
    method: 'POST',
    headers: {
      host: HOST,
      origin: `https://${HOST}`,
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ ...CREDENTIALS }).toString(),
  });
  expect(res.status).toBe(303);
  expect((sessionSetCookie(res) ?? '').split(';').map((each) => each.trim())).toContain('Secure');
});

test('behind a TLS-terminating proxy (X-Forwarded-Proto: https) the session cookie is Secure too', async ({
  dashboard,
}) => {
  const res = await dashboard.app.request(`http://${HOST}/login`, {
    method: 'POST',
    headers: {
      host: HOST,
      'x-forwarded-proto': 'https',
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ ...CREDENTIALS }).toString(),
  });
  expect(res.status).toBe(303);
  expect((sessionSetCookie(res) ?? '').split(';').map((each) => each.trim())).toContain('Secure');
});

test('a session cookie that was tampered with, or signed by another dashboard, is refused', async ({
  dashboard,
  redis,
}) => {
  const cookie = await signIn(dashboard);
  await listGroupMessages(dashboard, cookie);

  const flip = (signature: string) => (signature.startsWith('A') ? 'B' : 'A') + signature.slice(1);
  const flipLast = (id: string) => `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`;
  // Another id under the same signature: the signature covers the id.
  await expectSignedOut(
    dashboard,
    tampered(cookie, (id, signature) => `${flipLast(id)}.${signature}`),
  );
  await expectSignedOut(
    dashboard,
    tampered(cookie, (id, signature) => `${id}.${flip(signature)}`),
  );
  await expectSignedOut(
    dashboard,
    tampered(cookie, (id) => id),
  );
  // The id alone, unsigned, is no session either.
  await expectSignedOut(
    dashboard,
    tampered(cookie, (id) => `${id}.`),
  );

  // Each process signs with a secret of its own (none configured): another's cookie is no session here.
  const other = await openDashboard(redis.url);
  await expectSignedOut(other, cookie);
  // The untampered cookie still works.
  await listGroupMessages(dashboard, cookie);
});

test('a session ends 12 hours after login', async ({ dashboard, onTestFinished }) => {
  const cookie = await signIn(dashboard);
  const loggedInAt = Date.now();
  // Only Date is faked: the timers BullMQ and ioredis run on stay real.
  vi.useFakeTimers({ toFake: ['Date'] });
  onTestFinished(() => {
    vi.useRealTimers();
  });

  vi.setSystemTime(loggedInAt + SESSION_MS - 60_000);
  expect((await call(dashboard, '/queues', { cookie })).status).toBe(200);

  vi.setSystemTime(loggedInAt + SESSION_MS + 1000);
  await expectSignedOut(dashboard, cookie);
});

test('logout clears the session cookie', async ({ dashboard }) => {
  const cookie = await signIn(dashboard);
  const res = await call(dashboard, '/logout', { method: 'POST', cookie, headers: { ...SAME_ORIGIN } });
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/login');
  const cleared = (sessionSetCookie(res) ?? '').split(';').map((each) => each.trim());
  expect(cleared).toEqual(expect.arrayContaining([`${SESSION_COOKIE}=`, 'Max-Age=0', 'Path=/']));
  // What the browser sends afterwards: the cookie is gone.
  await expectSignedOut(dashboard, '');
});
