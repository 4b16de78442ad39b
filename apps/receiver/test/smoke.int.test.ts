import { loadFixture } from '@imsync/fixtures';
import { type RedisService, signedCallbackUrl, startRedis } from '@imsync/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { allJobs, buildReceiver, SDK_APP_ID, TOKEN } from './support.js';

let redis: RedisService;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

test('a signed fixture is acknowledged and enqueued', async () => {
  const receiver = await buildReceiver(redis.url);
  const fixture = loadFixture('text-public');
  const res = await receiver.app.request(
    signedCallbackUrl('http://x/im/callback', { sdkAppId: SDK_APP_ID, token: TOKEN }),
    {
      method: 'POST',
      body: fixture.text,
    },
  );
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}');
  const jobs = await allJobs(receiver.queue);
  expect(jobs).toHaveLength(1);
  expect(jobs[0]?.data.body).toBe(fixture.text);
  await receiver.close();
});
