import { expect, vi } from 'vitest';
import { action, addFailedJobs, addJobs, listGroupMessages, signIn, test } from './support.js';

// The board's buttons call bull-board's API: each call must change what Redis holds, so an
// operator who retries the failed messages after a sink outage really gets them processed again.
// These are the actions allowed by default (destructive-actions.int.test.ts has the others).

test('retrying one failed job puts it back in the waiting list', async ({ dashboard }) => {
  const [retried = '', other = ''] = await addFailedJobs(dashboard, 2);
  const cookie = await signIn(dashboard);
  expect((await listGroupMessages(dashboard, cookie)).counts).toMatchObject({ failed: 2, waiting: 0 });

  const res = await action(dashboard, `/queues/group-messages/${retried}/retry`, cookie);
  expect(res.status).toBe(204);
  expect(await dashboard.queue.getJobState(retried)).toBe('waiting');
  expect(await dashboard.queue.getJobState(other)).toBe('failed');
  expect((await listGroupMessages(dashboard, cookie)).counts).toMatchObject({ failed: 1, waiting: 1 });
});

test('retry all failed jobs puts every one back in the waiting list', async ({ dashboard }) => {
  const ids = await addFailedJobs(dashboard, 3);
  const cookie = await signIn(dashboard);

  const res = await action(dashboard, '/queues/group-messages/retry/failed', cookie);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ retried: 3, skipped: 0 });
  expect(await Promise.all(ids.map((id) => dashboard.queue.getJobState(id)))).toEqual([
    'waiting',
    'waiting',
    'waiting',
  ]);
  expect(await dashboard.queue.getJobCounts('failed', 'waiting')).toEqual({ failed: 0, waiting: 3 });
});

test('a job that is not failed or completed cannot be retried', async ({ dashboard }) => {
  const [waiting = ''] = await addJobs(dashboard, 1);
  const cookie = await signIn(dashboard);
  const res = await action(dashboard, `/queues/group-messages/${waiting}/retry`, cookie);
  expect(res.status).toBe(400);
  expect(await dashboard.queue.getJobState(waiting)).toBe('waiting');
});

test('clean all failed removes the failed jobs older than bull-board’s 5 s grace, and no others', async ({
  dashboard,
  onTestFinished,
}) => {
  const failed = await addFailedJobs(dashboard, 2);
  const [waiting = ''] = await addJobs(dashboard, 1);
  const cookie = await signIn(dashboard);

  // Right after failing, the jobs are inside the grace period: nothing goes.
  const early = await action(dashboard, '/queues/group-messages/clean/failed', cookie);
  expect(early.status).toBe(200);
  expect(await dashboard.queue.getJobCounts('failed')).toEqual({ failed: 2 });

  // A minute later they go. Only Date is faked: bull-board computes the cut-off from it.
  vi.useFakeTimers({ toFake: ['Date'] });
  onTestFinished(() => {
    vi.useRealTimers();
  });
  vi.setSystemTime(Date.now() + 60_000);
  const later = await action(dashboard, '/queues/group-messages/clean/failed', cookie);
  expect(later.status).toBe(200);
  vi.useRealTimers();

  expect(await Promise.all(failed.map((id) => dashboard.queue.getJob(id)))).toEqual([undefined, undefined]);
  expect(await dashboard.queue.getJobState(waiting)).toBe('waiting');
});

test('pause and resume change the queue in Redis and show in the listing', async ({ dashboard }) => {
  const cookie = await signIn(dashboard);
  expect((await action(dashboard, '/queues/group-messages/pause', cookie)).status).toBe(200);
  expect(await dashboard.queue.isPaused()).toBe(true);
  expect((await listGroupMessages(dashboard, cookie)).isPaused).toBe(true);

  expect((await action(dashboard, '/queues/group-messages/resume', cookie)).status).toBe(200);
  expect(await dashboard.queue.isPaused()).toBe(false);
  expect((await listGroupMessages(dashboard, cookie)).isPaused).toBe(false);
});

test('an action on a queue the board does not show is a 404 and touches nothing', async ({ dashboard }) => {
  const cookie = await signIn(dashboard);
  const res = await action(dashboard, '/queues/not-a-queue/pause', cookie);
  expect(res.status).toBe(404);
  expect(await dashboard.queue.isPaused()).toBe(false);
});
