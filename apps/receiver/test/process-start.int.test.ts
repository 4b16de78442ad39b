import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { loadFixture } from '@imsync/fixtures';
import {
  exited,
  repoRoot,
  signedCallbackUrl,
  spawnOwned,
  startAppProcess,
  waitFor,
  waitForReady,
} from '@imsync/testing';
import { test } from '@imsync/testing/vitest';
import { expect, onTestFinished } from 'vitest';
import { SDK_APP_ID, TOKEN, withTimeout } from './support.js';

// The receiver as a process, started as `pnpm start:receiver` does: what an operator sees when a
// port is taken or authentication is not configured, and where the ops routes are.

/** Runs the receiver until it exits by itself, and returns its exit code and output. */
async function runUntilExit(env: Record<string, string>): Promise<{ code: unknown; stderr: string; stdout: string }> {
  const child = spawnOwned(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: `${repoRoot}apps/receiver`,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // A receiver that starts where it should stop would run forever: fail with a reason instead.
  const code = await withTimeout(exited(child), 20_000, 'the receiver exiting by itself');
  return { code, stderr, stdout };
}

/** A port on 127.0.0.1 that something else holds until the test ends. */
async function takenPort(): Promise<number> {
  const holder: Server = createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  onTestFinished(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const address = holder.address();
  return typeof address === 'object' && address ? address.port : 0;
}

const base = (redisUrl: string) => ({
  REDIS_URL: redisUrl,
  TIM_SDK_APP_ID: SDK_APP_ID,
  TIM_CALLBACK_TOKEN: TOKEN,
  HOST: '127.0.0.1',
  METRICS_HOST: '127.0.0.1',
});

test.for([
  ['PORT', 'METRICS_PORT'],
  ['METRICS_PORT', 'PORT'],
] as const)(
  'a taken %s stops the receiver with one line naming it, no stack trace',
  async ([taken, other], { redis }) => {
    const port = await takenPort();
    const result = await runUntilExit({ ...base(redis.url), [taken]: String(port), [other]: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(new RegExp(`^imsync-receiver: ${taken}: 127\\.0\\.0\\.1:${port} is already in use`)),
    ]);
    expect(result.stderr).toMatch(`set ${taken} to a free port`);
    expect(result.stdout).not.toMatch(/receiver listening/);
  },
);

test('without a token and without TIM_CALLBACK_AUTH=off the receiver does not start', async ({ redis }) => {
  const { TIM_CALLBACK_TOKEN: _, ...env } = base(redis.url);
  const result = await runUntilExit({ ...env, PORT: '0', METRICS_PORT: '0' });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(
    /^imsync-receiver: invalid configuration:\n {2}TIM_CALLBACK_TOKEN is required while TIM_CALLBACK_AUTH=on/,
  );
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout).not.toMatch(/receiver listening/);
});

test('TIM_CALLBACK_AUTH=off runs without a token, says so once at start, and takes unsigned callbacks', async ({
  redis,
}) => {
  const { TIM_CALLBACK_TOKEN: _, ...env } = base(redis.url);
  const receiver = await startAppProcess('receiver', {
    ...env,
    TIM_CALLBACK_AUTH: 'off',
    PORT: '0',
    METRICS_PORT: '0',
  });
  onTestFinished(async () => {
    await receiver.stop();
  });
  const warnings = receiver.lines.filter((line) => line.level === 'warn');
  expect(warnings).toEqual([expect.objectContaining({ msg: expect.stringMatching(/^TIM_CALLBACK_AUTH=off: /) })]);
  const { port, opsPort } = await receiver.waitForLine((line) => line.msg === 'receiver listening');
  // Listening comes before the Redis connection is up (503 until then), as a load balancer knows.
  await waitForReady(`http://127.0.0.1:${opsPort}`);
  const url = signedCallbackUrl(`http://127.0.0.1:${port}/im/callback`, { sdkAppId: SDK_APP_ID, token: undefined });
  const res = await fetch(url, { method: 'POST', body: loadFixture('text-public').text });
  expect(res.status).toBe(200);
});

test('/readyz and /metrics are on the ops port, and the callback port answers them 404', async ({ redis }) => {
  const receiver = await startAppProcess('receiver', { ...base(redis.url), PORT: '0', METRICS_PORT: '0' });
  onTestFinished(async () => {
    await receiver.stop();
  });
  const listening = await receiver.waitForLine((line) => line.msg === 'receiver listening');
  expect(listening).toMatchObject({ opsHost: '127.0.0.1', opsPort: expect.any(Number) });
  const ops = `http://127.0.0.1:${listening.opsPort}`;
  const callbacks = `http://127.0.0.1:${listening.port}`;

  // Ready once its Redis connection is up, which may be just after it logged that it listens.
  await waitFor(async () => (await fetch(`${ops}/readyz`)).status === 200, { what: 'the ops /readyz to answer 200' });
  expect(await (await fetch(`${ops}/readyz`)).json()).toMatchObject({ status: 'ready', checks: { redis: 'ok' } });
  expect(await (await fetch(`${ops}/metrics`)).text()).toMatch(/^# HELP imsync_callbacks_received_total /m);
  for (const path of ['/readyz', '/metrics']) {
    expect((await fetch(`${callbacks}${path}`)).status).toBe(404);
  }
  const health = await fetch(`${callbacks}/healthz`);
  expect({ status: health.status, body: await health.text() }).toEqual({ status: 200, body: '{"status":"ok"}' });
});
