import { expect } from 'vitest';
import { CREDENTIALS, call, ORIGIN, openDashboard, postLogin, test } from './support.js';

// After a login the browser goes to `next`, which comes from the URL a user was given: it must
// only ever lead to a page of the dashboard, or a link to the login page becomes a phishing tool.

/** Where a browser lands after following a redirect (it resolves `Location` as the URL spec says). */
function landing(res: Response): URL {
  const location = res.headers.get('location');
  expect(location).not.toBeNull();
  return new URL(location ?? '', ORIGIN);
}

test('logging in without a next leads to the board', async ({ dashboard }) => {
  const res = await postLogin(dashboard, { ...CREDENTIALS });
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/queues');
});

// Each case fails a login on purpose: more than the failed-login limit allows.
const generous = { loginLimits: { perAddress: 100, total: 100 } };

test('after login, next only leads to a page of the dashboard (no open redirect)', async ({ redis }) => {
  const dashboard = await openDashboard(redis.url, generous);
  for (const next of [
    '//evil.example',
    '//evil.example/queues',
    'https://evil.example',
    'https://evil.example/queues',
    'http:evil.example',
    'javascript:alert(1)',
    'queues',
    '',
  ]) {
    const login = await postLogin(dashboard, { ...CREDENTIALS, next });
    expect(login.status, next).toBe(303);
    expect(login.headers.get('location'), next).toBe('/queues');

    const failed = await postLogin(dashboard, { user: 'root', password: 'wrong-password!', next });
    expect(failed.headers.get('location'), next).toBe('/login?error&next=%2Fqueues');

    const form = await (await call(dashboard, `/login?next=${encodeURIComponent(next)}`)).text();
    expect(form, next).toContain('<input type="hidden" name="next" value="/queues" />');
  }
});

// BUG: `safeNext` (src/app.ts) accepts any value that starts with one "/" but not "//". Browsers
// (and the WHATWG URL parser) read "\" as "/" and drop tabs and newlines in a URL, so
// `/\evil.example` and `/<TAB>/evil.example` redirect a freshly logged-in user to evil.example.
test('after login, next with a backslash or a tab does not lead off the dashboard', async ({ dashboard }) => {
  const offsite: string[] = [];
  for (const next of ['/\\evil.example', '/\\/evil.example', '/\t/evil.example']) {
    const login = await postLogin(dashboard, { ...CREDENTIALS, next });
    expect(login.status).toBe(303);
    if (landing(login).origin !== ORIGIN) {
      offsite.push(`${JSON.stringify(next)} -> ${landing(login).href}`);
    }
  }
  expect(offsite).toEqual([]);
});

// BUG: a path whose dot segments resolve to "//host" (`/.//evil.example`, `/a/..//evil.example`,
// with the dots percent-encoded too) stayed on this origin while resolving, so it was kept, and
// the redirect to "//evil.example" sent the browser to evil.example.
test('next never makes the redirect start with // or /\\, whatever its dot segments', async ({ redis }) => {
  const dashboard = await openDashboard(redis.url, generous);
  const cases = [
    '/.//evil.example',
    '/..//evil.example',
    '/%2e//evil.example',
    '/%2E%2E//evil.example/queues',
    '/queues/..//evil.example',
    '/a/b/../..//evil.example?x#y',
    '/./%2F/evil.example',
    '//',
    '/.//',
  ];
  for (const next of cases) {
    for (const res of [
      await postLogin(dashboard, { ...CREDENTIALS, next }),
      await postLogin(dashboard, { user: 'root', password: 'wrong-password!', next }),
    ]) {
      expect(res.status, next).toBe(303);
      const location = res.headers.get('location') ?? '';
      expect(location, next).not.toMatch(/^\/[/\\]/);
      expect(landing(res).origin, next).toBe(ORIGIN);
      // A failed login keeps next for the form: there too it must be a plain path.
      const kept = new URL(location, ORIGIN).searchParams.get('next');
      expect(kept ?? '/', next).not.toMatch(/^\/[/\\]/);
    }
    const form = await (await call(dashboard, `/login?next=${encodeURIComponent(next)}`)).text();
    expect(form, next).not.toMatch(/name="next" value="\/[/\\]/);
  }
});
