import { createHash } from 'node:crypto';
import { createRedis } from '@imsync/queue';
import { startRedis } from '@imsync/testing';
import { expect } from 'vitest';
import { SESSION_COOKIE } from '../src/auth.js';
import {
  CREDENTIALS,
  call,
  expectSignedOut,
  listGroupMessages,
  openDashboard,
  postLogin,
  SAME_ORIGIN,
  sessionSetCookie,
  signIn,
  type TestDashboard,
  test,
  uniquePrefix,
} from './support.js';

// A session lives in Redis, so it can end for every copy of its cookie: at logout, and when the
// password it was started with is no longer the dashboard's.

const SECRET = 'a-session-secret-of-at-least-32-characters';

function logout(dashboard: TestDashboard, cookie: string) {
  return call(dashboard, '/logout', { method: 'POST', cookie, headers: { ...SAME_ORIGIN } });
}

test('after logout, a copy of the session cookie no longer signs anyone in', async ({ dashboard }) => {
  const cookie = await signIn(dashboard);
  const other = await signIn(dashboard);
  await listGroupMessages(dashboard, cookie);

  const res = await logout(dashboard, cookie);
  expect(res.status).toBe(303);
  // What someone who copied the cookie before the logout sends afterwards.
  await expectSignedOut(dashboard, cookie);
  // Only that session ended: another login (another browser) goes on.
  await listGroupMessages(dashboard, other);
});

test('after the password changed, a cookie from before does not work; after a restart with the same one it does', async ({
  redis,
}) => {
  const prefix = uniquePrefix();
  const before = await openDashboard(redis.url, { prefix, sessionSecret: SECRET });
  const cookie = await signIn(before);

  // The same dashboard restarted (same secret, same password): the session carries on.
  const restarted = await openDashboard(redis.url, { prefix, sessionSecret: SECRET });
  await listGroupMessages(restarted, cookie);

  // Restarted with a new password: the cookie's signature is still good, its session is not.
  const changed = await openDashboard(redis.url, {
    prefix,
    sessionSecret: SECRET,
    password: 'a-new-password-after-a-leak',
  });
  await expectSignedOut(changed, cookie);
  // The new password signs in.
  await listGroupMessages(changed, await signIn(changed, 'a-new-password-after-a-leak'));
});

test('the session is a Redis key under the queue prefix, named by a hash of the id, that expires in 12 hours', async ({
  dashboard,
  redis,
}) => {
  const cookie = await signIn(dashboard);
  const value = decodeURIComponent(cookie.slice(`${SESSION_COOKIE}=`.length));
  const id = value.slice(0, value.lastIndexOf('.'));
  // 32 random bytes, base64url.
  expect(id).toMatch(/^[\w-]{43}$/);

  const inspection = createRedis(redis.url, { role: 'worker' });
  try {
    const keys = await inspection.keys(`${dashboard.prefix}:dashboard:session:*`);
    const hashed = createHash('sha256').update(id).digest('hex');
    expect(keys).toEqual([`${dashboard.prefix}:dashboard:session:${hashed}`]);
    // Whoever can read Redis cannot read the id back from it.
    expect(JSON.stringify(await inspection.get(keys[0] ?? ''))).not.toContain(id);
    const ttl = await inspection.ttl(keys[0] ?? '');
    expect(ttl).toBeGreaterThan(12 * 3600 - 60);
    expect(ttl).toBeLessThanOrEqual(12 * 3600);

    await logout(dashboard, cookie);
    expect(await inspection.keys(`${dashboard.prefix}:dashboard:session:*`)).toEqual([]);
  } finally {
    inspection.disconnect();
  }
});

test('while Redis is down, a session is not a session (401 / login page), and logging in or out says why', async ({
  onTestFinished,
}) => {
  const own = await startRedis();
  onTestFinished(() => own.dispose());
  const dashboard = await openDashboard(own.url);
  const cookie = await signIn(dashboard);
  await listGroupMessages(dashboard, cookie);

  await own.stop('graceful');
  try {
    // Failing closed: no way to tell whether the session was ended, so it is not let in.
    await expectSignedOut(dashboard, cookie);

    const login = await postLogin(dashboard, { ...CREDENTIALS });
    expect(login.status).toBe(503);
    expect(sessionSetCookie(login)).toBeUndefined();
    expect(await login.text()).toContain('Signing in needs Redis, which does not answer.');

    // A logout that cannot end the session says so and keeps the cookie, so the user can try again.
    const out = await logout(dashboard, cookie);
    expect(out.status).toBe(503);
    expect(sessionSetCookie(out)).toBeUndefined();
  } finally {
    await own.start();
  }
});
