import { describe, expect } from 'vitest';
import { action, addJobs, call, listGroupMessages, postLogin, SAME_ORIGIN, test } from './support.js';

// DASHBOARD_LOCAL_ONLY: no login at all (config allows it only on a loopback HOST). The board and
// its API answer without a session, and there is no login page. With no session cookie, the
// origin check is the only thing between another site's page and the board's actions.

describe('local-only board', () => {
  test.override('dashboardOptions', { login: false });

  test('the API and the board answer without a login', async ({ dashboard }) => {
    await addJobs(dashboard, 2);
    const listing = await listGroupMessages(dashboard);
    expect(listing.counts).toMatchObject({ waiting: 2, failed: 0 });
    expect(listing.readOnlyMode).toBe(false);

    const page = await call(dashboard, '/queues');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>imsync</title>');
  });

  test('there is no login page and no login or logout route', async ({ dashboard }) => {
    expect((await call(dashboard, '/login')).status).toBe(404);
    expect((await postLogin(dashboard, { user: 'admin', password: 'correct-horse-battery' })).status).toBe(404);
    expect((await call(dashboard, '/logout', { method: 'POST', headers: { ...SAME_ORIGIN } })).status).toBe(404);
  });

  test('actions from the board itself work; from another site they are refused', async ({ dashboard }) => {
    const refused = await call(dashboard, '/queues/api/queues/group-messages/pause', {
      method: 'PUT',
      headers: { origin: 'https://evil.example' },
    });
    expect(refused.status).toBe(403);
    expect(await dashboard.queue.isPaused()).toBe(false);

    const res = await action(dashboard, '/queues/group-messages/pause', undefined);
    expect(res.status).toBe(200);
    expect(await dashboard.queue.isPaused()).toBe(true);
  });

  // BUG (DNS rebinding): with no login, nothing checks that the Host header names this machine.
  // A page on evil.example that re-points its DNS name to 127.0.0.1 is then "same origin" with
  // the board (Origin and Host both evil.example:3000), and reads every queued message and can
  // run every action from the local user's browser. The local-only board should answer only
  // requests whose Host is localhost, 127.0.0.1 or [::1] (with any port).
  test('a request for another host name (DNS rebinding) is refused', async ({ dashboard }) => {
    await addJobs(dashboard, 1);
    const rebound = { host: 'evil.example:3000', origin: 'http://evil.example:3000', 'sec-fetch-site': 'same-origin' };
    const read = await dashboard.app.request('http://evil.example:3000/queues/api/queues', { headers: rebound });
    expect(read.status).toBe(421);
    expect(await read.json()).toMatchObject({ code: 'local_only' });
  });

  test('requests for the loopback names are served', async ({ dashboard }) => {
    for (const host of ['127.0.0.1:3000', 'localhost:3000', '[::1]:3000']) {
      const res = await dashboard.app.request(`http://${host}/queues/api/queues/group-messages/pause`, {
        method: 'PUT',
        headers: { host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin' },
      });
      expect(res.status, host).toBe(200);
    }
    expect(await dashboard.queue.isPaused()).toBe(true);
  });
});
