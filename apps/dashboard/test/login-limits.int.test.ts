import { expect } from 'vitest';
import { LOGIN_BODY_BYTES } from '../src/login.js';
import {
  CREDENTIALS,
  call,
  openDashboard,
  postLogin,
  SAME_ORIGIN,
  sessionSetCookie,
  type TestDashboard,
  test,
} from './support.js';

// Failed logins are limited per client address (5 per 15 minutes) and in all (50 per 15 minutes);
// over a limit the login answers 429 without even comparing the password. Every login line names
// the client address: the socket's peer, or the proxy's X-Forwarded-For entry when it is trusted.

const MINUTE = 60_000;
const WRONG = { user: CREDENTIALS.user, password: 'not-the-password' };

function clock() {
  const state = { now: Date.now() };
  return { state, now: () => state.now };
}

function login(dashboard: TestDashboard, form: Record<string, string>, from: string, headers = {}) {
  return postLogin(dashboard, form, { ...SAME_ORIGIN, ...headers }, from);
}

/** The login lines logged so far: what happened, and to whom. */
function loginLines(dashboard: TestDashboard) {
  return dashboard.logLines
    .filter((line) => String(line.msg).startsWith('dashboard log'))
    .map((line) => [line.msg, line.clientAddress]);
}

test('after 5 failures from one address, it gets 429 with Retry-After, even with the right password', async ({
  redis,
}) => {
  const time = clock();
  const dashboard = await openDashboard(redis.url, { now: time.now });
  for (let i = 0; i < 5; i++) {
    expect((await login(dashboard, WRONG, '203.0.113.7')).status).toBe(303);
    time.state.now += MINUTE;
  }
  const refused = await login(dashboard, { ...CREDENTIALS }, '203.0.113.7');
  expect(refused.status).toBe(429);
  // The first failure leaves the 15-minute window in 10 minutes.
  expect(refused.headers.get('retry-after')).toBe(String(10 * 60));
  expect(sessionSetCookie(refused)).toBeUndefined();
  expect(await refused.text()).toContain('Too many failed sign-ins. Try again in 10 min.');

  // Another address is not held back by this one's failures.
  expect(sessionSetCookie(await login(dashboard, { ...CREDENTIALS }, '198.51.100.2'))).toBeDefined();

  // Once the oldest failure is 15 minutes old, the right password works again.
  time.state.now += 10 * MINUTE;
  const later = await login(dashboard, { ...CREDENTIALS }, '203.0.113.7');
  expect(later.status).toBe(303);
  expect(sessionSetCookie(later)).toBeDefined();

  expect(loginLines(dashboard)).toEqual([
    ...Array.from({ length: 5 }, () => ['dashboard login failed', '203.0.113.7']),
    ['dashboard login refused: too many failures', '203.0.113.7'],
    ['dashboard login', '198.51.100.2'],
    ['dashboard login', '203.0.113.7'],
  ]);
  expect(dashboard.logLines.find((line) => line.msg === 'dashboard login refused: too many failures')).toMatchObject({
    level: 'warn',
    retryAfterSeconds: 600,
  });
});

test('successful logins do not count towards the limit', async ({ redis }) => {
  const dashboard = await openDashboard(redis.url, { now: clock().now });
  for (let i = 0; i < 8; i++) {
    expect(sessionSetCookie(await login(dashboard, { ...CREDENTIALS }, '203.0.113.7'))).toBeDefined();
  }
  for (let i = 0; i < 4; i++) {
    await login(dashboard, WRONG, '203.0.113.7');
  }
  expect(sessionSetCookie(await login(dashboard, { ...CREDENTIALS }, '203.0.113.7'))).toBeDefined();
});

test('failures from many addresses together stop at the global limit, for every address', async ({ redis }) => {
  const dashboard = await openDashboard(redis.url, { now: clock().now, loginLimits: { perAddress: 5, total: 6 } });
  // One guess each from six addresses: no address reaches its own limit.
  await Promise.all(
    Array.from({ length: 6 }, (_, i) => login(dashboard, WRONG, `203.0.113.${i + 1}`)).map(async (res) => {
      expect((await res).status).toBe(303);
    }),
  );
  const refused = await login(dashboard, { ...CREDENTIALS }, '198.51.100.2');
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(14 * 60);
});

test('without DASHBOARD_TRUST_PROXY, X-Forwarded-For is ignored: it neither names the client nor dodges the limit', async ({
  redis,
}) => {
  const dashboard = await openDashboard(redis.url, { now: clock().now });
  for (let i = 0; i < 5; i++) {
    // A client inventing a new address for every guess.
    await login(dashboard, WRONG, '203.0.113.7', { 'x-forwarded-for': `10.0.0.${i}` });
  }
  const refused = await login(dashboard, WRONG, '203.0.113.7', { 'x-forwarded-for': '10.0.0.99' });
  expect(refused.status).toBe(429);
  expect(new Set(loginLines(dashboard).map(([, address]) => address))).toEqual(new Set(['203.0.113.7']));
});

test('with DASHBOARD_TRUST_PROXY, the client is the right-most X-Forwarded-For entry, the one the proxy added', async ({
  redis,
}) => {
  const dashboard = await openDashboard(redis.url, { now: clock().now, trustProxy: true });
  const proxy = '10.0.0.2';
  for (let i = 0; i < 5; i++) {
    // The client writes anything it likes in front; the proxy appends the address it saw.
    await login(dashboard, WRONG, proxy, { 'x-forwarded-for': `192.0.2.${i}, 203.0.113.7` });
  }
  expect((await login(dashboard, WRONG, proxy, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(429);
  // Another client behind the same proxy is not held back.
  const other = await login(dashboard, { ...CREDENTIALS }, proxy, { 'x-forwarded-for': '203.0.113.8' });
  expect(sessionSetCookie(other)).toBeDefined();
  expect(loginLines(dashboard).at(-1)).toEqual(['dashboard login', '203.0.113.8']);
  expect(loginLines(dashboard).at(0)).toEqual(['dashboard login failed', '203.0.113.7']);
  // No header (a request that did not come through the proxy): the socket's peer.
  await login(dashboard, { ...CREDENTIALS }, '198.51.100.2');
  expect(loginLines(dashboard).at(-1)).toEqual(['dashboard login', '198.51.100.2']);
});

test(`a login form over ${LOGIN_BODY_BYTES} bytes is refused with 413 before it is read`, async ({ dashboard }) => {
  const big = await login(
    dashboard,
    { ...CREDENTIALS, next: `/queues?${'x'.repeat(LOGIN_BODY_BYTES)}` },
    '203.0.113.7',
  );
  expect(big.status).toBe(413);
  expect(sessionSetCookie(big)).toBeUndefined();
  expect(loginLines(dashboard)).toEqual([['dashboard login refused: form too large', '203.0.113.7']]);

  // Without a Content-Length too: the body is cut off while it streams.
  const chunks = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(`user=admin&password=${'p'.repeat(LOGIN_BODY_BYTES)}`));
      controller.close();
    },
  });
  const streamed = await dashboard.app.request('http://localhost:3000/login', {
    method: 'POST',
    headers: { ...SAME_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: chunks,
    duplex: 'half',
  } as RequestInit);
  expect(streamed.status).toBe(413);

  // A form of ordinary size still signs in.
  expect((await login(dashboard, { ...CREDENTIALS, next: '/queues' }, '203.0.113.7')).status).toBe(303);
  expect((await call(dashboard, '/login')).status).toBe(200);
});
