import { createQueueLayout } from '@imsync/queue';
import { checkArchive, type LoadSummary, waitUntilArchived } from '@imsync/simulator';
import { type AppProcess, freePort, startAppProcess, waitFor } from '@imsync/testing';
import { runsAlone, test } from '@imsync/testing/vitest';
import { Redis } from 'ioredis';
import { expect, onTestFinished } from 'vitest';
import { type Answer, masterOf, shardCounter, shardOf, startPipeline, startStream } from './harness.js';

// The whole pipeline on a Redis Cluster (3 masters, a replica each; local processes): receivers
// behind a round-robin balancer, workers, the dashboard, and a simulator stream of every command
// with repeats. Each test has a queue prefix of its own (the dedupe markers are Redis keys) and a
// database of its own.

// Six Redis nodes, two receivers and three workers under a stream: one such file at a time.
runsAlone();

/**
 * Every acknowledged event is in the archive once, and nothing was stored that was not sent.
 * Should one be missing, `explain` says what the queues and workers did.
 */
async function expectArchivedOnce(databaseUrl: string, summary: LoadSummary, explain?: () => Promise<unknown>) {
  const acknowledged = await waitUntilArchived(databaseUrl, summary.acknowledgedEvents, 30_000);
  const explained = acknowledged.missing + acknowledged.notApplied > 0 && explain ? await explain() : undefined;
  expect(acknowledged, JSON.stringify(explained)).toMatchObject({ missing: 0, notApplied: 0, wrongSendResult: 0 });
  const sent = await checkArchive(databaseUrl, summary.sentEvents);
  expect(sent).toMatchObject({ duplicateRows: 0, phantomRows: 0 });
}

const jobsDone = (worker: AppProcess, after = 0) =>
  worker.lines.filter((line) => line.msg === 'job done' && Number(line.time) > after).length;

/** How many of each job outcome the workers logged ("job done stored", "job will retry", …), and their errors. */
function outcomes(workers: readonly AppProcess[]) {
  const counts: Record<string, number> = {};
  const errors = new Set<string>();
  for (const line of workers.flatMap((worker) => worker.lines)) {
    if (typeof line.jobId === 'string' || line.msg === 'worker error') {
      const what = `${line.msg} ${line.outcome ?? ''}`.trim();
      counts[what] = (counts[what] ?? 0) + 1;
      const err = line.err as { message?: string } | undefined;
      if (err?.message && errors.size < 10) {
        errors.add(err.message);
      }
    }
  }
  return { counts, errors: [...errors] };
}

test('2 receivers and 3 workers on 3 shards: every acknowledged event stored once, the shards on several masters, the dashboard shows each shard', async ({
  redisCluster,
  databaseUrl,
}) => {
  // The default prefix, as a deployment has it.
  const layout = createQueueLayout({ prefix: 'imsync', shards: 3, cluster: true });
  const env = { QUEUE_SHARDS: '3' };
  const dashboardPort = await freePort();
  const [pipeline, dashboard] = await Promise.all([
    startPipeline({ cluster: redisCluster, databaseUrl, receivers: 2, workers: 3, env }),
    startAppProcess('dashboard', {
      ...env,
      REDIS_URL: redisCluster.url,
      HOST: '127.0.0.1',
      PORT: String(dashboardPort),
      DASHBOARD_USER: 'operator',
      DASHBOARD_PASSWORD: 'a-password-of-my-own',
    }),
  ]);
  onTestFinished(async () => {
    await dashboard.stop();
  });
  const stream = startStream({ url: pipeline.balancer.callbackUrl, seed: 1, rate: 60, count: 400 });
  const summary = await stream.done;

  expect(summary, JSON.stringify(summary.errors)).toMatchObject({
    sent: 480,
    acknowledged: 480,
    failed: 0,
    rejected: {},
  });
  await expectArchivedOnce(databaseUrl, summary);
  // Both receivers took callbacks, repeats of one event among them; every worker stored some.
  const spread = pipeline.balancer.spread();
  expect(spread.perReceiver).toHaveLength(2);
  expect(Math.min(...spread.perReceiver)).toBeGreaterThan(150);
  expect(spread.bodiesOnSeveral).toBeGreaterThan(0);
  expect(pipeline.workers.map((worker) => jobsDone(worker) > 0)).toEqual([true, true, true]);

  // The shards are on more than one master, and each got jobs.
  const counter = shardCounter(redisCluster, layout.ingest);
  const masters = await Promise.all(layout.ingest.map(({ prefix }) => masterOf(counter.connection, prefix)));
  expect(new Set(masters).size).toBeGreaterThan(1);
  const counts = await waitFor(
    async () => {
      const each = await counter.counts();
      return each.every(({ pending }) => pending === 0) && each;
    },
    { what: 'every shard drained' },
  );
  expect(counts.map(({ completed }) => completed > 0)).toEqual([true, true, true]);

  // The dashboard lists every shard (and backfill), with what each holds, and measures each.
  const base = `http://127.0.0.1:${dashboardPort}`;
  const login = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user: 'operator', password: 'a-password-of-my-own' }).toString(),
  });
  expect(login.status).toBe(303);
  const cookie = login.headers.getSetCookie()[0]?.split(';')[0] ?? '';
  const listing = await fetch(`${base}/queues/api/queues`, { headers: { cookie } });
  expect(listing.status).toBe(200);
  const { queues } = (await listing.json()) as { queues: { name: string; counts: Record<string, number> }[] };
  expect(queues.map(({ name }) => name)).toEqual([
    'group-messages-0',
    'group-messages-1',
    'group-messages-2',
    'backfill',
  ]);
  expect(queues.slice(0, 3).map(({ counts }) => counts.completed)).toEqual(counts.map(({ completed }) => completed));
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const shardLabels = [...metrics.matchAll(/^imsync_queue_jobs\{[^}]*queue="group-messages-(\d)"[^}]*shard="(\d)"/gm)];
  expect(new Set(shardLabels.map(([, queue, shard]) => `${queue}=${shard}`))).toEqual(new Set(['0=0', '1=1', '2=2']));
});

test('a master SIGKILLed mid-stream (REDIS_WAIT_REPLICAS=1): its shard answers 503 until the node is back as a replica while the other shards keep acknowledging; nothing acknowledged lost or stored twice; the workers resume by themselves', async ({
  redisCluster,
  databaseUrl,
}) => {
  const layout = createQueueLayout({ prefix: 'fo', shards: 3, cluster: true });
  const pipeline = await startPipeline({
    cluster: redisCluster,
    databaseUrl,
    receivers: 2,
    workers: 2,
    env: { QUEUE_PREFIX: 'fo', QUEUE_SHARDS: '3', REDIS_WAIT_REPLICAS: '1' },
  });
  const counter = shardCounter(redisCluster, layout.ingest);
  const shard0 = layout.ingest[0]?.prefix ?? '';
  const victimAddress = await masterOf(counter.connection, shard0);
  const victim = redisCluster.nodes.find((node) => `127.0.0.1:${node.port}` === victimAddress);
  const witness = redisCluster.nodes.find((node) => node !== victim);
  if (!victim || !witness) {
    throw new Error(`no node ${victimAddress}`);
  }
  // A node that stays up says who serves shard 0 (the cluster client might ask the dead one).
  const witnessClient = new Redis(witness.port);
  const victimClient = new Redis(victim.port, { lazyConnect: true });
  onTestFinished(() => {
    witnessClient.disconnect();
    victimClient.disconnect();
  });
  const inShard = (shard: number) => (answer: Answer) => shardOf(layout, answer.event) === shard;
  const acknowledgedSince = (since: number) => (answers: readonly Answer[]) =>
    answers.filter((a) => a.sentAt > since && a.status === 200);

  const stream = startStream({ url: pipeline.balancer.callbackUrl, seed: 2, rate: 50, count: 10_000 });
  await stream.until('300 acknowledgements', (answers) => acknowledgedSince(0)(answers).length >= 300);
  await victim.stop('crash');
  const killedAt = Date.now();
  // Should the test fail before the node is back, the next test still gets a whole cluster.
  let down = true;
  onTestFinished(async () => {
    if (down) {
      await victim.start();
      await redisCluster.waitUntilHealthy();
    }
  });
  // Its replica takes over once the node timeout (2 s) has passed, with no replica of its own.
  await waitFor(async () => (await masterOf(witnessClient, shard0)) !== victimAddress, {
    what: 'the replica of the killed master promoted',
    intervalMs: 100,
  });
  const promotedAt = Date.now();
  await stream.until(
    '20 refusals on shard 0 after the promotion',
    (answers) => answers.filter((a) => a.sentAt > promotedAt && a.status !== 200 && inShard(0)(a)).length >= 20,
  );
  const restartingAt = Date.now();
  await victim.start();
  down = false;
  await redisCluster.waitUntilHealthy();
  expect(((await victimClient.role()) as unknown[])[0], 'the restarted node is a replica').toBe('slave');
  await stream.until('a 200 on shard 0 again', (answers) => acknowledgedSince(restartingAt)(answers).some(inShard(0)));
  const resumedAt = Date.now();
  await stream.until('200 more acknowledgements', (answers) => acknowledgedSince(resumedAt)(answers).length >= 200);
  const summary = await stream.stop();

  // From the crash until the node was back, shard 0 answered 503 and nothing else, while the
  // other shards kept acknowledging (all but a moment: while the dead master's slots have no
  // owner, the whole cluster answers CLUSTERDOWN). Nothing but 200 and 503 was ever answered.
  const outage = stream.answers.filter((a) => a.sentAt > killedAt && a.answeredAt < restartingAt);
  expect(new Set(outage.filter(inShard(0)).map((a) => a.status))).toEqual(new Set([503]));
  expect(outage.filter((a) => !inShard(0)(a) && a.status === 200).length).toBeGreaterThan(50);
  expect(new Set(stream.answers.map((a) => a.status))).toEqual(new Set([200, 503]));

  // Every shard drained: a worker wedged by the failover would leave jobs waiting here.
  let last: unknown;
  await waitFor(
    async () => {
      const counts = await counter.counts();
      last = counts;
      return counts.every(({ pending }) => pending === 0);
    },
    { what: 'every shard drained after the failover', timeoutMs: 30_000 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(last)}`);
  });
  await expectArchivedOnce(databaseUrl, summary, async () => ({
    shards: await counter.counts(),
    failed: await counter.failedReasons(),
    workers: outcomes(pipeline.workers),
    acknowledged: summary.acknowledgedEvents.length,
  }));
  // The same worker processes, never restarted, stored what came after the failover.
  expect(pipeline.workers.map((worker) => worker.child.exitCode)).toEqual([null, null]);
  expect(pipeline.workers.map((worker) => jobsDone(worker, resumedAt) > 0)).toEqual([true, true]);
});

test('resharding 2 → 4 → 2 under a stream, by rolling restarts as README says (draining shards 2 and 3 before they are dropped): nothing lost or stored twice, nothing refused', async ({
  redisCluster,
  databaseUrl,
}) => {
  const prefix = 'rs';
  const four = createQueueLayout({ prefix, shards: 4, cluster: true });
  const pipeline = await startPipeline({
    cluster: redisCluster,
    databaseUrl,
    receivers: 2,
    workers: 2,
    env: { QUEUE_PREFIX: prefix, QUEUE_SHARDS: '2' },
  });
  const counter = shardCounter(redisCluster, four.ingest);
  const acknowledgedSince = (since: number) => (answers: readonly Answer[]) =>
    answers.filter((a) => a.sentAt > since && a.status === 200);
  const pendingIn = async (shards: number[]) => {
    const counts = await counter.counts();
    return shards.reduce((sum, shard) => sum + (counts[shard]?.pending ?? 0), 0);
  };

  const stream = startStream({ url: pipeline.balancer.callbackUrl, seed: 3, rate: 50, count: 10_000 });
  await stream.until('200 acknowledgements', (answers) => acknowledgedSince(0)(answers).length >= 200);

  // Up: workers first (they read 0–3, the old shards among them), then the receivers one by one.
  await pipeline.replaceWorkers({ QUEUE_SHARDS: '4' });
  for (const receiver of [...pipeline.receivers]) {
    await pipeline.replaceReceiver(receiver, { QUEUE_SHARDS: '4' });
  }
  const upAt = Date.now();
  await stream.until('events acknowledged into shards 2 and 3', (answers) => {
    const shards = new Set(acknowledgedSince(upAt)(answers).map((a) => shardOf(four, a.event)));
    return shards.has(2) && shards.has(3);
  });

  // Down: workers on 0–1 still drain 2–3, then the receivers write to 0–1 only; once 2 and 3
  // are empty, the workers stop reading them.
  await pipeline.replaceWorkers({ QUEUE_SHARDS: '2', QUEUE_DRAIN_SHARDS: '4' });
  for (const receiver of [...pipeline.receivers]) {
    await pipeline.replaceReceiver(receiver, { QUEUE_SHARDS: '2' });
  }
  await waitFor(async () => (await pendingIn([2, 3])) === 0, { what: 'shards 2 and 3 drained' });
  await pipeline.replaceWorkers({ QUEUE_SHARDS: '2' });
  const drainedAt = Date.now();
  await stream.until(
    '200 acknowledgements after the drain',
    (answers) => acknowledgedSince(drainedAt)(answers).length >= 200,
  );
  const summary = await stream.stop();
  await waitFor(async () => (await pendingIn([0, 1, 2, 3])) === 0, { what: 'every shard empty' });

  // Shards 2 and 3 had jobs while they were written to; nothing is left in them.
  expect((await counter.counts()).map(({ completed }) => completed > 0)).toEqual([true, true, true, true]);
  await expectArchivedOnce(databaseUrl, summary);
  // Every replaced process shut down cleanly, and with a receiver always in the rotation, no
  // callback went unacknowledged.
  expect(pipeline.exitCodes()).toEqual(Array(10).fill(0));
  expect(summary, JSON.stringify(summary.errors)).toMatchObject({ failed: 0, rejected: {} });
  // Ten process starts (each compiles its TypeScript) beside a 6-node cluster, two receivers, two
  // workers and another test file on two cores: about 45 s here, so twice the suite's minute.
}, 120_000);
