import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadFixture } from '@imsync/fixtures';
import { freePort, startAppProcess, waitFor, waitForReady } from '@imsync/testing';
import { test } from '@imsync/testing/vitest';
import pg from 'pg';
import { expect } from 'vitest';
import { SDK_APP_ID, signed, TOKEN } from './stack.js';

// What the images run: `pnpm build`, then scripts/deploy-app.sh (the Dockerfile's own steps) into
// a directory with production dependencies only, then `node dist/...` from there.

const run = promisify(execFile);
const root = fileURLToPath(new URL('../', import.meta.url));

test('the built and deployed receiver and worker take a callback into PostgreSQL', async ({
  redis,
  databaseUrl,
  onTestFinished,
}) => {
  const out = await mkdtemp(join(tmpdir(), 'imsync-deploy-'));
  onTestFinished(() => rm(out, { recursive: true, force: true }));
  await run('pnpm', ['build'], { cwd: root });
  await run('sh', ['scripts/deploy-app.sh', 'receiver', join(out, 'receiver')], { cwd: root });
  await run('sh', ['scripts/deploy-app.sh', 'worker', join(out, 'worker')], { cwd: root });

  const port = await freePort();
  const receiver = await startAppProcess(
    'receiver',
    {
      REDIS_URL: redis.url,
      TIM_SDK_APP_ID: SDK_APP_ID,
      TIM_CALLBACK_TOKEN: TOKEN,
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
    },
    { deployedAt: join(out, 'receiver') },
  );
  const { opsPort } = await receiver.waitForLine((line) => line.msg === 'receiver listening');
  await waitForReady(`http://127.0.0.1:${opsPort}`);
  const worker = await startAppProcess(
    'worker',
    { REDIS_URL: redis.url, DATABASE_URL: databaseUrl, TIM_SDK_APP_ID: SDK_APP_ID, METRICS_PORT: '0' },
    { deployedAt: join(out, 'worker') },
  );
  const db = new pg.Client({ connectionString: databaseUrl });
  try {
    const fixture = loadFixture('image-community-topic');
    const reply = await fetch(signed(`http://127.0.0.1:${port}/im/callback`), { method: 'POST', body: fixture.text });
    expect(reply.status).toBe(200);
    await db.connect();
    const { rows } = await waitFor(
      async () => {
        const result = await db.query<{ payload: string }>('SELECT payload::text AS payload FROM group_messages');
        return result.rows.length > 0 && result;
      },
      { what: 'the stored row' },
    );
    expect(rows.map((r) => r.payload)).toEqual([fixture.text]);
  } finally {
    await db.end().catch(() => {});
    expect(await Promise.all([receiver.stop(), worker.stop()])).toEqual([0, 0]);
  }
});
