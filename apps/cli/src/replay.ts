import { once } from 'node:events';
import { withDeadline } from '@imsync/async';
import {
  closeRedis,
  createJobWriter,
  createQueueLayout,
  createRedis,
  DELIVERY_JOB,
  type DestinationSettings,
  DestinationSettingsSchema,
  deliveryJobData,
  deliveryJobOptions,
  deliveryQueueName,
  destinationSettingsKey,
  destinationsKey,
  type RedisTarget,
  redisTarget,
  replayJobId,
} from '@imsync/queue';
import { SingleBar } from 'cli-progress';
import pg from 'pg';
import * as v from 'valibot';
import { countArchiveRows, readArchive } from './replay-archive.js';
import { parseReplayArgs, REPLAY_HELP, type ReplayPlan } from './replay-args.js';
import { UsageError } from './send.js';

// `imsync replay`: archived events into one destination's queue again (README "Replay").

interface ReplayCounts {
  /** Events per command. */
  found: Record<string, number>;
  /** Rows whose body no longer parses (or names no command of its table), per command. */
  unreadable: Record<string, number>;
  rows: number;
  added: number;
  /** Jobs of this run id already in the queue (a resumed run). */
  skipped: number;
}

/** A failure to say in one line (a service not reachable), not a bug to show with its stack. */
class ReplayFailure extends Error {}

export async function replay(argv: string[]): Promise<number> {
  const plan = parseReplayArgs(argv, process.env);
  if (plan === 'help') {
    process.stdout.write(REPLAY_HELP);
    return 0;
  }
  if (plan.leftOutByGroup.length > 0) {
    process.stderr.write(
      `imsync replay: --group leaves out ${plan.leftOutByGroup.join(' and ')} (they have no group)\n`,
    );
  }
  try {
    return await run(plan);
  } catch (error) {
    if (error instanceof ReplayFailure) {
      process.stderr.write(`imsync replay: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

async function run(given: ReplayPlan): Promise<number> {
  let plan = given;
  const started = performance.now();
  const target = redisTarget({ REDIS_URL: plan.redisUrl, REDIS_SENTINEL_PASSWORD: plan.sentinelPassword });
  const queue = createQueueLayout({
    prefix: plan.prefix,
    shards: plan.shards,
    cluster: target.kind === 'cluster',
  }).delivery(plan.to);
  const redis = await connectRedis(target);
  const client = new pg.Client({ connectionString: plan.databaseUrl, application_name: 'imsync-replay' });
  let interrupted = false;
  const interrupt = () => {
    interrupted = true;
  };
  try {
    // Read only, even for a dry run: it must name a destination the workers run.
    const known = (await redis.smembers(destinationsKey(plan.prefix))).sort();
    if (!known.includes(plan.to)) {
      throw new UsageError(
        `--to ${plan.to}: no such destination in ${destinationsKey(plan.prefix)} (${
          known.length > 0
            ? `the workers run: ${known.join(', ')}`
            : 'none yet: a worker lists its destinations there when it starts'
        })`,
      );
    }
    plan = withRecordedSettings(plan, await redis.hget(destinationSettingsKey(plan.prefix), plan.to));
    await client.connect().catch((error: Error) => {
      throw new ReplayFailure(`PostgreSQL (DATABASE_URL) not reachable: ${error.message}`);
    });
    const counts: ReplayCounts = { found: {}, unreadable: {}, rows: 0, added: 0, skipped: 0 };
    const bar =
      plan.json || !process.stdout.isTTY
        ? undefined
        : new SingleBar({
            format: ` {bar} {value}/{total} rows | {events} events | {added} added | {skipped} skipped`,
            hideCursor: true,
          });
    bar?.start(await countArchiveRows(client, plan), 0, { events: 0, added: 0, skipped: 0 });
    const writer = plan.dryRun
      ? undefined
      : createJobWriter({
          connection: redis,
          prefix: queue.prefix,
          queue: queue.name,
          jobOptions: deliveryJobOptions(plan.attempts),
          timeoutMs: 30_000,
        });
    process.once('SIGINT', interrupt);
    for await (const page of readArchive(client, plan)) {
      for (const event of page.events) {
        counts.found[event.command] = (counts.found[event.command] ?? 0) + 1;
      }
      for (const command of page.unreadable) {
        counts.unreadable[command] = (counts.unreadable[command] ?? 0) + 1;
      }
      // A page at a time: the next is read once Redis has this one's jobs.
      const outcomes = writer
        ? await Promise.all(
            page.events.map((event) =>
              writer.add(DELIVERY_JOB, deliveryJobData(event), replayJobId(event.key, plan.runId)),
            ),
          ).catch((error: Error) => {
            bar?.stop();
            throw new ReplayFailure(
              `${error.message}; run it again (with --run-id ${plan.runId}, the ${counts.added} jobs added are skipped)`,
            );
          })
        : [];
      for (const outcome of outcomes) {
        counts[outcome === 'added' ? 'added' : 'skipped']++;
      }
      counts.rows += page.rows;
      bar?.update(counts.rows, { events: total(counts.found), added: counts.added, skipped: counts.skipped });
      if (interrupted) {
        break;
      }
    }
    await writer?.close();
    bar?.stop();
    const elapsedMs = Math.round(performance.now() - started);
    process.stdout.write(
      plan.json
        ? `${JSON.stringify(summaryJson(plan, counts, elapsedMs, interrupted))}\n`
        : formatSummary(plan, counts, elapsedMs, interrupted),
    );
    return interrupted ? 130 : total(counts.unreadable) > 0 ? 1 : 0;
  } finally {
    process.removeListener('SIGINT', interrupt);
    await client.end().catch(() => {});
    await closeRedis(redis);
  }
}

/** A connection that fails fast: a replay waits for nobody, it is simply run again. */
async function connectRedis(target: RedisTarget) {
  const redis = createRedis(target, { role: 'producer', commandTimeoutMs: 30_000, connectionName: 'imsync-replay' });
  let lastError: string | undefined;
  redis.on('error', (error: Error) => {
    lastError = error.message;
  });
  try {
    await withDeadline(once(redis, 'ready'), 5000, 'no answer within 5 s');
  } catch (error) {
    redis.disconnect();
    // Never the URL: it holds the password.
    throw new ReplayFailure(`Redis (REDIS_URL) not reachable: ${lastError ?? (error as Error).message}`);
  }
  return redis;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);

function summaryJson(plan: ReplayPlan, counts: ReplayCounts, elapsedMs: number, interrupted: boolean) {
  return {
    destination: plan.to,
    queue: deliveryQueueName(plan.to),
    runId: plan.runId,
    dryRun: plan.dryRun,
    since: plan.since?.toISOString() ?? null,
    until: plan.until.toISOString(),
    group: plan.group ?? null,
    app: plan.app ?? null,
    commands: plan.commands,
    leftOutByGroup: plan.leftOutByGroup,
    found: counts.found,
    events: total(counts.found),
    unreadable: counts.unreadable,
    rows: counts.rows,
    added: counts.added,
    skipped: counts.skipped,
    elapsedMs,
    interrupted,
  };
}

function formatSummary(plan: ReplayPlan, counts: ReplayCounts, elapsedMs: number, interrupted: boolean): string {
  const width = Math.max(...plan.commands.map((command) => command.length));
  const filters = [plan.group !== undefined && `group ${plan.group}`, plan.app && `app ${plan.app}`].filter(Boolean);
  const lines = [
    '',
    `  destination   ${plan.to} (queue ${deliveryQueueName(plan.to)}), run ${plan.runId}${plan.resumed ? ' (resumed)' : ''}`,
    `  received      from ${plan.since?.toISOString() ?? 'the first archived event'} until ${plan.until.toISOString()}${filters.length > 0 ? `, ${filters.join(', ')}` : ''}`,
  ];
  plan.commands.forEach((command, i) => {
    const unreadable = counts.unreadable[command] ? ` (${counts.unreadable[command]} rows unreadable)` : '';
    lines.push(
      `  ${i === 0 ? 'events found' : '            '}  ${command.padEnd(width)} ${counts.found[command] ?? 0}${unreadable}`,
    );
  });
  lines.push(
    plan.dryRun
      ? `  dry run       ${total(counts.found)} events would be added; nothing was enqueued`
      : `  jobs          ${counts.added} added | ${counts.skipped} skipped (already present, from this run id)`,
    `  time          ${(elapsedMs / 1000).toFixed(1)} s (${counts.rows} rows read)`,
  );
  if (interrupted) {
    lines.push(
      `  interrupted   run it again to finish: with --run-id ${plan.runId}, the jobs already added are skipped`,
    );
  }
  if (total(counts.unreadable) > 0) {
    lines.push('  unreadable    rows whose payload no longer parses as its command were not replayed');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The destination as its workers recorded it (its subscription, its attempts) fills what the
 * command line left open: a replay without --command sends only what the destination takes.
 */
export function withRecordedSettings(plan: ReplayPlan, recorded: string | null): ReplayPlan {
  if (recorded === null) {
    return plan;
  }
  let settings: DestinationSettings;
  try {
    settings = v.parse(DestinationSettingsSchema, JSON.parse(recorded));
  } catch {
    return plan;
  }
  const subscribed = settings.commands;
  return {
    ...plan,
    ...(!plan.commandsGiven && subscribed && { commands: plan.commands.filter((c) => subscribed.includes(c)) }),
    ...(!plan.attemptsGiven && { attempts: settings.attempts }),
  };
}
