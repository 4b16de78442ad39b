import { loadFixture, loadFixtures } from '@imsync/fixtures';
import { messageKeyOf, waitFor } from '@imsync/testing';
import pg from 'pg';
import { expect } from 'vitest';
import { rowCount, SDK_APP_ID, test } from './support.js';

const jobData = (text: string) => ({ sdkAppId: SDK_APP_ID, body: text, receivedAt: Date.now() });
const keyOf = (text: string) => messageKeyOf(SDK_APP_ID, text);

test('stores each job once; a second job for the same message is a duplicate, stored nowhere twice', async ({
  worker: { queue, pool, jobOptions },
}) => {
  const fixtures = loadFixtures();
  // Distinct job ids for the same message: what a re-delivery after the first job was removed looks like.
  const jobs = [...fixtures, ...fixtures].map((f, i) => ({
    name: 'group-message' as const,
    data: jobData(f.text),
    opts: { ...jobOptions(3), jobId: `${keyOf(f.text)}-${i < fixtures.length ? 'a' : 'b'}` },
  }));
  await queue.addBulk(jobs);
  await waitFor(async () => (await queue.getCompletedCount()) === jobs.length, { what: 'all jobs completed' });
  expect(await rowCount(pool)).toBe(fixtures.length);
  const outcomes = await Promise.all((await queue.getCompleted(0, -1)).map((job) => job.returnvalue));
  expect(outcomes.filter((o) => o === 'stored')).toHaveLength(fixtures.length);
  expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(fixtures.length);
});

test('a body no retry can fix fails at once, without retries, and stays in the failed set', async ({
  worker: { queue, jobOptions },
}) => {
  const bad = JSON.stringify({ ...loadFixture('text-public').body, MsgSeq: '12' });
  await queue.add('group-message', jobData(bad), { ...jobOptions(5), jobId: 'bad-body' });
  await queue.add('group-message', { sdkAppId: 'x' } as never, { ...jobOptions(5), jobId: 'bad-data' });
  await waitFor(async () => (await queue.getFailedCount()) === 2, { what: 'two failed jobs' });
  for (const id of ['bad-body', 'bad-data']) {
    const job = await queue.getJob(id);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/invalid/);
  }
});

test('a job for an app this worker does not serve fails at once and stores nothing (job data is forgeable)', async ({
  worker: { queue, pool, jobOptions },
}) => {
  const text = loadFixture('text-public').text;
  await queue.add(
    'group-message',
    { ...jobData(text), sdkAppId: '1400000001' },
    { ...jobOptions(5), jobId: 'other-app' },
  );
  await waitFor(async () => (await queue.getJobState('other-app')) === 'failed', { what: 'the job failed' });
  const job = await queue.getJob('other-app');
  expect(job?.attemptsMade).toBe(1);
  expect(job?.failedReason).toMatch(/SDKAppID 1400000001, which this worker does not serve/);
  expect(await rowCount(pool)).toBe(0);
});

test('while PostgreSQL is away jobs retry with backoff, and land once it is back', async ({
  worker: { queue, pool, jobOptions },
  postgres,
}) => {
  const fixture = loadFixture('text-public');
  await postgres.stop('graceful');
  try {
    await queue.add('group-message', jobData(fixture.text), { ...jobOptions(100), jobId: 'outage' });
    await waitFor(async () => ((await queue.getJob('outage'))?.attemptsMade ?? 0) >= 2, { what: 'two failed tries' });
    expect(await queue.getJobState('outage')).toMatch(/delayed|waiting|active/);
  } finally {
    await postgres.start();
  }
  await waitFor(async () => (await queue.getJobState('outage')) === 'completed', { what: 'job completed' });
  expect(await rowCount(pool)).toBe(1);
});

test('a job that used up its tries stays failed, and a retry from the failed set stores it', async ({
  worker: { queue, pool, jobOptions },
  databaseUrl,
}) => {
  const blocker = new pg.Client({ connectionString: databaseUrl });
  await blocker.connect();
  // Rename the table away: every insert fails with "relation does not exist" (a retryable error).
  await blocker.query('ALTER TABLE group_messages RENAME TO group_messages_away');
  await queue.add('group-message', jobData(loadFixture('face-work').text), {
    ...jobOptions(3),
    jobId: 'exhausted',
  });
  await waitFor(async () => (await queue.getJobState('exhausted')) === 'failed', { what: 'job failed' });
  expect((await queue.getJob('exhausted'))?.attemptsMade).toBe(3);

  await blocker.query('ALTER TABLE group_messages_away RENAME TO group_messages');
  await blocker.end();
  await (await queue.getJob('exhausted'))?.retry('failed');
  await waitFor(async () => (await queue.getJobState('exhausted')) === 'completed', { what: 'retried job completed' });
  expect(await rowCount(pool)).toBe(1);
});

test('stopping waits for the job in progress to reach PostgreSQL', async ({
  worker: { queue, pool, worker, stopWorker, jobOptions },
}) => {
  const blocker = await pool.connect();
  // Hold a lock the insert needs, so the job is caught mid-write when close() is called.
  await blocker.query('BEGIN');
  await blocker.query('LOCK TABLE group_messages IN ACCESS EXCLUSIVE MODE');
  const active = new Promise((resolve) => worker.once('active', resolve));
  await queue.add('group-message', jobData(loadFixture('sound-work').text), {
    ...jobOptions(3),
    jobId: 'in-flight',
  });
  await active;
  let closed = false;
  const closing = stopWorker().then(() => {
    closed = true;
  });
  // The insert is waiting on the lock; a close that did not wait would already have resolved.
  await waitFor(
    async () =>
      (await pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).rows[0].n >
      0,
    { what: 'insert blocked' },
  );
  expect(closed).toBe(false);
  await blocker.query('COMMIT');
  blocker.release();
  await closing;
  expect(await rowCount(pool)).toBe(1);
  expect(await queue.getJobState('in-flight')).toBe('completed');
});

test('stopping right after Redis came back does not hang (BullMQ close() alone can)', async ({
  redis,
  worker: { worker, stopWorker },
}) => {
  await worker.waitUntilReady();
  await redis.stop('graceful');
  await redis.start();
  const outcome = await Promise.race([
    stopWorker().then(() => 'stopped'),
    new Promise((resolve) => setTimeout(resolve, 20_000, 'hung')),
  ]);
  expect(outcome).toBe('stopped');
});
