import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { freePort, startLocalPostgres, startLocalRedis, startLocalRedisCluster } from '@imsync/local-services';
import { type GeneratedMessage, MessageFactory } from '@imsync/simulator';
import { type DrainResult, drain } from './drain.js';
import { buildForBench } from './lib/build.js';
import { median, spread } from './lib/util.js';
import { benchReceiver } from './receiver.js';

// `pnpm bench:sizing`: the measurements behind docs/sizing.md. What one receiver and one worker
// process cost per message (CPU of the process, of Redis, of PostgreSQL), how the drain rate
// changes with 1, 2 and 4 worker processes on one Redis, and with 1, 2 and 3 shards on a local
// Redis Cluster of three masters. `--smoke` runs it small (the harness works; figures mean nothing).

const { values } = parseArgs({
  options: { smoke: { type: 'boolean', default: false }, out: { type: 'string', default: 'docs/sizing.md' } },
});
const smoke = values.smoke;
const say = (text: string) => process.stdout.write(`${text}\n`);
const started = Date.now();
const rounds = smoke ? 1 : 2;
const jobs = smoke ? 2000 : 20_000;
const workerCounts = smoke ? [1, 2] : [1, 2, 4];
const shardCounts = smoke ? [1, 3] : [1, 2, 3];

say('building and deploying the apps as their images do ...');
const built = await buildForBench();
const messagesFor = (seed: number): GeneratedMessage[] => {
  const factory = new MessageFactory({ seed, groups: 200 });
  return Array.from({ length: jobs }, () => factory.next());
};

say('receiver at saturation ...');
const receiver = await benchReceiver({
  built,
  rounds,
  seconds: smoke ? 2 : 8,
  warmupSeconds: smoke ? 1 : 2,
  connections: 64,
  port: await freePort(),
});
const receiverRounds = receiver.rounds.filter((r) => r.variant === 'imsync');

const postgres = await startLocalPostgres({});
const byWorkers: DrainResult[] = [];
const byShards: DrainResult[] = [];
try {
  say(`worker processes ${workerCounts.join(', ')} on one Redis, ${rounds} rounds of ${jobs} messages ...`);
  const redis = await startLocalRedis({ appendfsync: 'everysec' });
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const workers of workerCounts) {
        const result = await drain(
          {
            built,
            redisUrl: redis.url,
            redisPids: () => [redis.pid() ?? 0],
            cluster: false,
            databaseUrl: await postgres.createDatabase(),
            postgresPid: postgres.pid() ?? 0,
          },
          messagesFor(round),
          { workers, shards: 1, prefix: `w${round}x${workers}`, concurrency: 100 },
        );
        say(`  ${workers} worker(s): ${Math.round(result.perSecond)}/s`);
        byWorkers.push(result);
      }
    }
  } finally {
    await redis.dispose();
  }

  say(`shards ${shardCounts.join(', ')} on a 3-master cluster, 2 workers, ${rounds} rounds ...`);
  const cluster = await startLocalRedisCluster({ masters: 3, replicas: 0 });
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const shards of shardCounts) {
        const result = await drain(
          {
            built,
            redisUrl: cluster.url,
            redisPids: () => cluster.nodes.map((node) => node.pid() ?? 0),
            cluster: true,
            databaseUrl: await postgres.createDatabase(),
            postgresPid: postgres.pid() ?? 0,
          },
          messagesFor(round),
          { workers: 2, shards, prefix: `s${round}x${shards}`, concurrency: 100 },
        );
        say(
          `  ${shards} shard(s): ${Math.round(result.perSecond)}/s, busiest node ${(result.busiestRedisShare * 100).toFixed(0)} %`,
        );
        byShards.push(result);
      }
    }
  } finally {
    await cluster.dispose();
  }
} finally {
  await postgres.dispose();
}

await writeFile(values.out, report());
say(`wrote ${values.out} in ${Math.round((Date.now() - started) / 1000)} s`);
process.exit(0);

function report(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const pick = (results: DrainResult[], key: 'workers' | 'shards', n: number) => results.filter((r) => r[key] === n);
  const row = (label: string, results: DrainResult[], base: number) =>
    `| ${label} | ${spread(results.map((r) => r.perSecond))} | ${(median(results.map((r) => r.perSecond)) / base).toFixed(2)}× | ${spread(results.map((r) => r.workerCpuUs))} | ${spread(results.map((r) => r.redisCpuUs))} | ${spread(results.map((r) => r.postgresCpuUs))} | ${spread(results.map((r) => r.busiestRedisShare * 100))} % |`;
  const oneWorker = pick(byWorkers, 'workers', 1);
  const baseWorkers = median(oneWorker.map((r) => r.perSecond));
  const oneShard = pick(byShards, 'shards', 1);
  const baseShards = median(oneShard.map((r) => r.perSecond));
  const receiverCpu = median(receiverRounds.map((r) => r.serverCpuUs));
  const receiverRedis = median(receiverRounds.map((r) => r.redisCpuUs));
  const receiverRate = median(receiverRounds.map((r) => r.wrk.perSecond));
  const workerCpu = median(oneWorker.map((r) => r.workerCpuUs));
  const workerRedis = median(oneWorker.map((r) => r.redisCpuUs));
  const postgresCpu = median(oneWorker.map((r) => r.postgresCpuUs));
  const redisPerMessage = receiverRedis + workerRedis;
  const perCore = (us: number) => Math.floor(1e6 / us / 100) * 100;
  const peak = 5000;
  const cores = (us: number) => ((peak * us) / 1e6).toFixed(2);
  return `# Sizing imsync

How many processes, Redis cores and PostgreSQL capacity an app needs, from measurements. Made with

\`\`\`sh
pnpm bench:sizing        # bench/sizing.ts: rewrites this file (about ${smoke ? 'a minute' : 'four minutes'})
\`\`\`

on ${new Date().toISOString().slice(0, 10)}, ${machine}, a shared and noisy machine: every figure
is the median (min–max) of ${rounds} alternated rounds, and the apps run built and deployed as their
images are, with plain \`node\`. Each drain stores ${jobs} realistic group messages (200 groups) from
a backlog written first, so it measures what the workers can do, not the offered rate.

## What one message costs

| | per message | one core takes, at most |
|---|---|---|
| receiver process CPU (signature, validation, key, enqueue; measured at saturation with wrk) | ${receiverCpu.toFixed(0)} µs | ${perCore(receiverCpu)}/s (measured: ${Math.round(receiverRate)}/s for one process) |
| Redis CPU for the receiver's enqueue | ${receiverRedis.toFixed(0)} µs | |
| worker process CPU (validation, dedupe, archive, BullMQ) | ${workerCpu.toFixed(0)} µs | ${perCore(workerCpu)}/s |
| Redis CPU for the worker's fetch, lock, finish and dedupe marker | ${workerRedis.toFixed(0)} µs | |
| **Redis CPU in all** | **${redisPerMessage.toFixed(0)} µs** | **${perCore(redisPerMessage)}/s on one Redis core** |
| PostgreSQL CPU (batched INSERTs) | ${postgresCpu.toFixed(0)} µs | ${perCore(postgresCpu)}/s |

Redis runs commands on one thread: one Redis server, and with one shard one queue, takes at most
about ${perCore(redisPerMessage)} messages a second here, whatever else the machine has.

## Worker processes on one Redis

| worker processes | messages/s | vs 1 | worker CPU/message (all) | Redis CPU/message | PostgreSQL CPU/message | busiest Redis |
|---|---|---|---|---|---|---|
${workerCounts.map((n) => row(String(n), pick(byWorkers, 'workers', n), baseWorkers)).join('\n')}

## Shards on a Redis Cluster (three masters, two worker processes)

| shards | messages/s | vs 1 | worker CPU/message (all) | Redis CPU/message (all nodes) | PostgreSQL CPU/message | busiest Redis node's share |
|---|---|---|---|---|---|---|
${shardCounts.map((n) => row(String(n), pick(byShards, 'shards', n), baseShards)).join('\n')}

## What saturates first, and on a bigger machine

This machine has ${cpus().length} cores for everything: the workers, three Redis servers and
PostgreSQL. Adding worker processes or shards here adds processes that compete for the same two
cores, so the curves above show the cost of the parts, not the gain a real deployment sees: with
${cpus().length} cores, the worker processes alone (${workerCpu.toFixed(0)} µs a message) already use
most of the machine at the drain rates above. The busiest-node column shows what sharding does
buy: with one shard one Redis node does all the queue work; with three, it spreads.

On a bigger machine (reasoned from the per-message costs above, not measured): worker throughput
grows with worker cores, about ${perCore(workerCpu)} messages/s per core, until one of these is
reached, whichever comes first:

1. **One Redis core**: about ${perCore(redisPerMessage)} messages/s per Redis server. Past it, shard
   (\`QUEUE_SHARDS\` over a Redis Cluster), one shard or more per master.
2. **PostgreSQL**: about ${perCore(postgresCpu)} messages/s per PostgreSQL core for the archive's
   INSERTs, plus disk: each message is one row of its body's size.
3. **Receivers**: about ${perCore(receiverCpu)} callbacks/s per receiver core; run several behind a
   load balancer.

## The arithmetic for a peak

For an app whose peak is ${peak} group messages a second:

- receivers: ${peak} × ${receiverCpu.toFixed(0)} µs = ${cores(receiverCpu)} cores (two processes, for availability);
- workers: ${peak} × ${workerCpu.toFixed(0)} µs = ${cores(workerCpu)} cores (say ${Math.ceil(Number(cores(workerCpu)) * 1.5)} worker processes, for headroom and restarts);
- Redis: ${peak} × ${redisPerMessage.toFixed(0)} µs = ${cores(redisPerMessage)} of one core: ${Number(cores(redisPerMessage)) < 0.6 ? 'one Redis (with a replica) is enough; shard past about 60 % of a core' : 'shard the queue over a Redis Cluster'};
- PostgreSQL: ${peak} × ${postgresCpu.toFixed(0)} µs = ${cores(postgresCpu)} cores, and ${peak} rows a second of storage.

Replace ${peak} with your own peak; keep each part under about 60 % of what it can take, so a backlog
after an outage drains.
`;
}
