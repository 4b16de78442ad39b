import { loadFixture } from '@imsync/fixtures';
import { signedCallbackUrl } from '@imsync/testing';
import { expect } from 'vitest';
import { allJobs, SDK_APP_ID, TOKEN, test } from './support.js';

test('a signed fixture is acknowledged and enqueued', async ({ receiver }) => {
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
});
