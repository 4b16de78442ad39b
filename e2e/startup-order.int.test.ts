import { loadFixture } from '@imsync/fixtures';
import { processLogs } from '@imsync/local-services';
import { holdSilentPort, startAppProcess, waitFor } from '@imsync/testing';
import { test } from '@imsync/testing/vitest';
import { expect, onTestFinished } from 'vitest';
import { signed, startReceiver } from './stack.js';

test('a receiver started while Redis is down answers 503, then 200 once Redis is up, without a restart', async ({
  redis,
}) => {
  await redis.stop('graceful');
  // Redis is this file's: whatever happens, the test leaves it running.
  let down = true;
  onTestFinished(async () => {
    if (down) {
      await redis.start();
    }
  });
  const { receiver, callbackUrl, opsUrl } = await startReceiver({ REDIS_URL: redis.url }, { ready: false });
  const post = () =>
    fetch(signed(callbackUrl), {
      method: 'POST',
      body: loadFixture('text-public').text,
    });
  try {
    expect((await post()).status).toBe(503);
    expect((await fetch(`${opsUrl}/readyz`)).status).toBe(503);
    await redis.start();
    down = false;
    await waitFor(async () => (await post()).status === 200, { what: 'a 200 after Redis came up' });
    expect((await fetch(`${opsUrl}/readyz`)).status).toBe(200);
  } finally {
    expect(await receiver.stop()).toBe(0);
  }
});

test("a process that never gets ready is stopped when its start gives up, not left to take a later attempt's jobs", async () => {
  // A worker says it started once its schema is checked, whatever Redis does: its PostgreSQL (and
  // Redis) here accept connections and never answer, so it never gets there. (An unreachable Redis
  // alone made a worker that started anyway, and this test passed only while the worker took
  // longer than 3 s to start; on a quick machine it did not.)
  const silent = await holdSilentPort();
  onTestFinished(() => silent.close());
  const since = Date.now();
  const env = {
    REDIS_URL: `redis://127.0.0.1:${silent.port}`,
    DATABASE_URL: `postgres://imsync@127.0.0.1:${silent.port}/imsync`,
    METRICS_PORT: '0',
  };
  await expect(
    startAppProcess('worker', { ...env, TIM_SDK_APP_ID: '1400000001' }, { readyTimeoutMs: 3000 }),
  ).rejects.toThrow(/did not log the expected line/);
  const started = processLogs().filter((log) => log.name === 'worker' && log.startedAt >= since);
  expect(started).toHaveLength(1);
  expect(started[0]?.running()).toBe(false);
});
