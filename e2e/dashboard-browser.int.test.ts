import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFixture } from '@imsync/fixtures';
import { createRedis, INGEST_QUEUE } from '@imsync/queue';
import { freePort, startAppProcess, waitFor } from '@imsync/testing';
import { Queue } from 'bullmq';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { expect } from 'vitest';
import { signed, test } from './stack.js';

// An operator's day: callbacks flow, two of them can never be stored, the operator signs in to the
// dashboard, finds them in the failed set, fixes the cause and retries one, and sees it complete.
// Real Redis, PostgreSQL, receiver, worker and dashboard processes; headless Chromium.

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const USER = 'operator';
const PASSWORD = 'browser-test-password';

test('an operator signs in, opens a failed job, retries it and sees it complete', async ({ stack, redis, skip }) => {
  skip(!existsSync(CHROMIUM) && !process.env.CI, `${CHROMIUM} missing (apt-get install chromium); CI installs it`);
  const port = await freePort();
  const dashboard = await startAppProcess('dashboard', {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: stack.prefix,
    PORT: String(port),
    HOST: '127.0.0.1',
    DASHBOARD_USER: USER,
    DASHBOARD_PASSWORD: PASSWORD,
  });
  const connection = createRedis(redis.url, { role: 'worker' });
  const queue = new Queue(INGEST_QUEUE, { connection, prefix: stack.prefix });
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  const profile = await mkdtemp(join(tmpdir(), 'imsync-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    // A rule PostgreSQL enforces and the message schema does not know: rows from "poison" are refused.
    await db.connect();
    await db.query(`ALTER TABLE group_messages ADD CONSTRAINT no_poison CHECK (from_account <> 'poison')`);
    const base = loadFixture('text-public').body;
    const bodies = Array.from({ length: 8 }, (_, i) =>
      JSON.stringify({ ...base, MsgSeq: 9000 + i, From_Account: i < 2 ? 'poison' : 'lin.wei' }),
    );
    for (const body of bodies) {
      expect((await fetch(signed(stack.receiverUrl), { method: 'POST', body })).status).toBe(200);
    }
    await waitFor(async () => (await queue.getFailedCount()) === 2 && (await queue.getCompletedCount()) === 6, {
      what: '6 completed and 2 failed jobs',
    });
    const [failed] = await queue.getFailed(0, 0);
    const failedId = failed?.id ?? '';
    // Failed for good on the first try: no retry storm for data no retry can fix.
    expect(failed?.attemptsMade).toBe(1);

    const page = await browser.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`http://127.0.0.1:${port}/queues`);
    await expect.poll(() => page.url()).toContain('/login');
    await page.fill('input[name=user]', USER);
    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([page.waitForURL(/\/queues/), page.click('button[type=submit]')]);
    await page.locator('aside').getByText(INGEST_QUEUE).waitFor();

    await page.goto(`http://127.0.0.1:${port}/queues/queue/${INGEST_QUEUE}?status=failed`);
    await page.locator(`a[href*="/${INGEST_QUEUE}/${failedId}"]`).first().click();
    // The error says why; the data tab shows the message as the receiver took it.
    await page.getByText('PostgreSQL refused the event').first().waitFor();
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-failed-job.png') });
    await page.getByText('Data', { exact: true }).click();
    await page.getByText('sdkAppId').first().waitFor();

    // The cause is fixed; the operator retries the job from the dashboard.
    await db.query('ALTER TABLE group_messages DROP CONSTRAINT no_poison');
    await page.locator('ul[class*=jobActions] button').first().click();
    await page.getByText('retry this job').waitFor();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await waitFor(async () => (await queue.getJobState(failedId)) === 'completed', {
      what: 'the retried job completed',
    });

    await page.goto(`http://127.0.0.1:${port}/queues/queue/${INGEST_QUEUE}/${failedId}?status=completed`);
    await page.getByText('"stored"').first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-retried-job.png') });
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM group_messages WHERE from_account = 'poison'",
    );
    expect(rows[0]?.n).toBe(1);
    expect(await queue.getFailedCount()).toBe(1);

    // Cleaning the other failed job by hand would lose a message Tencent will not send again: the
    // button is there (bull-board cannot hide it alone), and the board says why it refuses.
    const [other] = await queue.getFailed(0, 0);
    const otherId = other?.id ?? '';
    await page.goto(`http://127.0.0.1:${port}/queues/queue/${INGEST_QUEUE}/${otherId}?status=failed`);
    // The job's Clean action: an icon button (a trash can).
    await page.locator('ul[class*=jobActions] button:has(svg.lucide-trash2)').first().click();
    await page.getByText('clean this job').waitFor();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('this action could delete or forge queued messages').first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-refused-clean.png') });
    expect(await queue.getJobState(otherId)).toBe('failed');
  } finally {
    await browser.close();
    await rm(profile, { recursive: true, force: true });
    await db.end().catch(() => {});
    await queue.close();
    connection.disconnect();
    await dashboard.stop();
  }
});
