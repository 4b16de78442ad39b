import { loadFixture } from '@imsync/fixtures';
import { freePort, type RedisService, signedCallbackUrl, startAppProcess, startRedis, waitFor } from '@imsync/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SDK_APP_ID, TOKEN } from './stack.js';

let redis: RedisService;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

test('a receiver started while Redis is down answers 503, then 200 once Redis is up, without a restart', async () => {
  await redis.stop('graceful');
  const port = await freePort();
  const receiver = await startAppProcess('receiver', {
    REDIS_URL: redis.url,
    TIM_SDK_APP_ID: SDK_APP_ID,
    TIM_CALLBACK_TOKEN: TOKEN,
    PORT: String(port),
    HOST: '127.0.0.1',
  });
  const post = () =>
    fetch(signedCallbackUrl(`http://127.0.0.1:${port}/im/callback`, { sdkAppId: SDK_APP_ID, token: TOKEN }), {
      method: 'POST',
      body: loadFixture('text-public').text,
    });
  try {
    expect((await post()).status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    await redis.start();
    await waitFor(async () => (await post()).status === 200, { what: 'a 200 after Redis came up' });
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  } finally {
    expect(await receiver.stop()).toBe(0);
  }
});
