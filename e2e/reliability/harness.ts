import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDeadline } from '@imsync/async';
import { CALLBACK_CATALOG, parseStoredBody, SUPPORTED_COMMANDS } from '@imsync/protocol';
import { INGEST_QUEUE } from '@imsync/queue';
import { checkArchive, type GeneratedEvent, type LoadSummary, runLoad } from '@imsync/simulator';
import {
  type AppProcess,
  freePort,
  type PostgresService,
  type RedisService,
  startAppProcess,
  startPostgres,
  startRedis,
  waitForReady,
} from '@imsync/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { type DestinationServer, startDestinationServer } from '../deliveries/destination-server.js';
import { type BackfillResult, startTencentHistory, type TencentHistory } from './backfill.js';
import { sampleTimeline, type TimelinePoint } from './timeline.js';

// Runs one fault scenario against real processes: Redis, PostgreSQL, a receiver and workers, with
// a steady stream of signed callbacks from the simulator, then counts what reached the archive.

export const SDK_APP_ID = '1600012345';
const TOKEN = 'reliability-token';

/** Short locks, stall checks and retries, so recoveries take seconds (the mechanisms are the same). */
const FAST_RECOVERY = {
  worker: { JOB_LOCK_MS: '2000', STALLED_CHECK_MS: '1000', RETRY_MAX_DELAY_MS: '2000', WORKER_CONCURRENCY: '50' },
  receiver: { JOB_ATTEMPTS: '40', JOB_BACKOFF_MS: '100' },
};

export interface ScenarioContext {
  redis: RedisService;
  postgres: PostgresService;
  databaseUrl: string;
  receiver: AppProcess;
  workers: AppProcess[];
  /** A handle on the queue, for faults that need one and for the final counts. */
  queue: Queue;
  startReceiver(): Promise<AppProcess>;
  startWorker(): Promise<AppProcess>;
  /** Sends so far, the events (of every command) acknowledged so far, the time of the last 200. */
  progress(): { sends: number; acknowledged: readonly GeneratedEvent[]; lastOk: number };
  /** Resolves once `sends` sends have been made. */
  afterSends(sends: number): Promise<void>;
  /** Resolves with the time of the first 200 after `since` (ms since the epoch). */
  firstOkAfter(since: number): Promise<number>;
  /** Resolves once every event is in its archive and every recall applied to its message. */
  allStored(events: readonly GeneratedEvent[], timeoutMs?: number): Promise<void>;
  /** With `destination`: the webhook receiver every event is delivered to. */
  destination?: DestinationServer;
  /** With `backfill`: Tencent's history (a fake) and what each send lost. */
  tencent?: TencentHistory;
}

export interface Scenario {
  id: string;
  title: string;
  workers?: number;
  appendfsync?: 'everysec' | 'always';
  count?: number;
  rate?: number;
  duplicates?: number;
  /** Workers also deliver every event to a verifying webhook receiver (short retry schedule). */
  destination?: boolean;
  /** Every group message goes to a fake Tencent API's history first, and workers backfill from it. */
  backfill?: boolean;
  /**
   * Runs alongside the load; resolves with how long the pipeline took to recover (ms), a note, and
   * when the receiver was gone, if it was (sends from then on reached nothing).
   */
  fault(ctx: ScenarioContext): Promise<{ recoveryMs: number; note?: string; receiverGoneAt?: number }>;
  /** After the load: anything an operator would do (e.g. retry the failed set). */
  after?(ctx: ScenarioContext, load: LoadSummary): Promise<{ recoveryMs?: number; note?: string } | undefined>;
}

export interface ScenarioResult {
  id: string;
  title: string;
  /** Requests made, repeats included. */
  sends: number;
  /** Distinct events sent, of every command. */
  messages: number;
  /** Distinct events sent, by command. */
  byCommand: Record<string, number>;
  acknowledged: number;
  /** Distinct events acknowledged. */
  acknowledgedMessages: number;
  /** 4xx answers. */
  rejected: number;
  /** 5xx answers and requests without an answer. */
  failed: number;
  stored: number;
  /** Rows beyond one per event. */
  duplicatesStored: number;
  /** Acknowledged events not in the archive, and acknowledged recalls their acknowledged message does not show. */
  lost: number;
  /** Rows for events that were never sent. */
  phantoms: number;
  failedJobs: number;
  /** The slowest answer that was not a 200, ms (Tencent gives up after 2000). */
  slowestRefusalMs: number;
  recoveryMs: number;
  note: string;
  elapsedMs: number;
  /** With a destination: acknowledged events it never got (answered 2xx), and extra 2xx deliveries. */
  undelivered?: number;
  redelivered?: number;
  /** With `backfill`: what the receiver never acknowledged, and what backfill brought back. */
  backfill?: BackfillResult;
  /** Acknowledged and stored over time, from the load's start until everything was stored. */
  timeline: TimelinePoint[];
}

export async function runScenario(scenario: Scenario): Promise<ScenarioResult> {
  const started = performance.now();
  const redis = await startRedis({ appendfsync: scenario.appendfsync ?? 'everysec' });
  const postgres = await startPostgres();
  const databaseUrl = await postgres.createDatabase();
  const port = await freePort();
  const processes: AppProcess[] = [];
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  connection.on('error', () => {});
  const queue = new Queue(INGEST_QUEUE, { connection, prefix: 'imsync' });
  queue.on('error', () => {});
  const destination = scenario.destination ? await startDestinationServer(DESTINATION_SECRET) : undefined;
  const sinksDir = destination ? await mkdtemp(join(tmpdir(), 'imsync-reliability-')) : undefined;
  const sinksFile = sinksDir && join(sinksDir, 'sinks.json');
  const tencent = scenario.backfill ? await startTencentHistory(SDK_APP_ID) : undefined;
  if (destination && sinksFile) {
    await writeFile(
      sinksFile,
      JSON.stringify({
        destinations: [
          {
            name: 'hooks',
            type: 'http',
            url: destination.url,
            secret: DESTINATION_SECRET,
            retrySchedule: '0,1s,2s,2s,2s,5s,5s,10s,10s,10s',
          },
        ],
      }),
    );
  }

  const startReceiver = async () => {
    const receiver = await startAppProcess('receiver', {
      REDIS_URL: redis.url,
      TIM_SDK_APP_ID: SDK_APP_ID,
      TIM_CALLBACK_TOKEN: TOKEN,
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: '0',

      ...FAST_RECOVERY.receiver,
    });
    processes.push(receiver);
    // Listening comes before the Redis connection is up; a load balancer waits for /readyz too.
    const { opsPort } = await receiver.waitForLine((line) => line.msg === 'receiver listening');
    await waitForReady(`http://127.0.0.1:${opsPort}`);
    ctx.receiver = receiver;
    return receiver;
  };
  const startWorker = async () => {
    const worker = await startAppProcess('worker', {
      REDIS_URL: redis.url,
      DATABASE_URL: databaseUrl,
      TIM_SDK_APP_ID: SDK_APP_ID,
      METRICS_PORT: '0',
      ...(sinksFile && { IMSYNC_SINKS_FILE: sinksFile }),
      ...tencent?.workerEnv,
      ...FAST_RECOVERY.worker,
    });
    processes.push(worker);
    return worker;
  };

  let sends = 0;
  const acknowledged: GeneratedEvent[] = [];
  const okTimes: number[] = [];
  const sendWaiters: { sends: number; resolve: () => void }[] = [];
  let slowestRefusalMs = 0;

  const ctx: ScenarioContext = {
    redis,
    postgres,
    databaseUrl,
    receiver: undefined as unknown as AppProcess,
    workers: [],
    queue,
    ...(destination && { destination }),
    ...(tencent && { tencent }),
    startReceiver,
    startWorker,
    progress: () => ({ sends, acknowledged, lastOk: okTimes.at(-1) ?? 0 }),
    afterSends: (target) =>
      sends >= target
        ? Promise.resolve()
        : waitLimited(
            new Promise((resolve) => sendWaiters.push({ sends: target, resolve })),
            `${target} sends (made ${sends})`,
          ),
    firstOkAfter: async (since) => {
      const deadline = Date.now() + WAIT_LIMIT_MS;
      for (;;) {
        const ok = okTimes.find((time) => time > since);
        if (ok !== undefined) {
          return ok;
        }
        if (Date.now() > deadline) {
          throw new Error(`no 200 within ${WAIT_LIMIT_MS} ms after the fault (sends so far: ${sends})`);
        }
        await sleep(5);
      }
    },
    allStored: async (events, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      const refs = events.map((event) => event.ref);
      for (;;) {
        const check = await checkArchive(databaseUrl, refs);
        if (check.missing === 0 && check.notApplied === 0) {
          return;
        }
        if (Date.now() > deadline) {
          throw new Error(`not all ${events.length} events stored and applied within ${timeoutMs} ms`);
        }
        await sleep(100);
      }
    },
  };

  let timeline: ReturnType<typeof sampleTimeline> | undefined;
  try {
    await startReceiver();
    for (let i = 0; i < (scenario.workers ?? 1); i++) {
      ctx.workers.push(await startWorker());
    }
    timeline = sampleTimeline(databaseUrl, () => ({
      acknowledged: acknowledged.length,
      refused: sends - acknowledged.length,
    }));
    const load = runLoad({
      url: `http://127.0.0.1:${port}/im/callback`,
      sdkAppId: SDK_APP_ID,
      token: TOKEN,
      // Every command of the catalog, recalls among them (some before their message).
      commands: SUPPORTED_COMMANDS,
      count: scenario.count ?? 2000,
      rate: scenario.rate ?? 400,
      concurrency: 64,
      duplicateRatio: scenario.duplicates ?? 0.1,
      seed: hash(scenario.id),
      timeoutMs: 5000,
      ...(tencent && { record: tencent.record }),
      onResult: (result) => {
        sends++;
        tencent?.sent(result.message, result.status, result.latencyMs);
        if (result.status === 200) {
          acknowledged.push(result.message);
          okTimes.push(Date.now());
        } else {
          // The receiver's part: from dispatch, so a client starved of CPU does not count against it.
          slowestRefusalMs = Math.max(slowestRefusalMs, result.answerMs);
        }
        for (const waiter of sendWaiters.filter((w) => sends >= w.sends)) {
          sendWaiters.splice(sendWaiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      },
    });
    const [summary, fault] = await Promise.all([
      waitLimited(load, 'the load to finish', 120_000),
      waitLimited(scenario.fault(ctx), 'the fault and its recovery', 120_000),
    ]);
    const after = await scenario.after?.(ctx, summary);

    // Everything the receiver acknowledged must land; give the workers time to drain the backlog.
    const acknowledgedEvents = [...acknowledged];
    await ctx.allStored(acknowledgedEvents, 120_000).catch(() => {});
    const points = await timeline.stop();
    // And what backfill can recover, before the archive is counted (duplicates included).
    const backfill = tencent && (await tencent.check(databaseUrl, fault.receiverGoneAt));
    const ackedCheck = await checkArchive(databaseUrl, summary.acknowledgedEvents);
    const sentCheck = await checkArchive(databaseUrl, summary.sentEvents);
    const rejected = Object.values(summary.rejected).reduce((sum, n) => sum + n, 0);
    const deliveries = destination && (await deliveryCheck(destination, acknowledgedEvents));
    return {
      id: scenario.id,
      title: scenario.title,
      sends: summary.sent,
      messages: summary.sentEvents.length,
      byCommand: summary.sentByCommand,
      acknowledged: summary.acknowledged,
      acknowledgedMessages: summary.acknowledgedEvents.length,
      rejected,
      failed: summary.failed,
      stored: sentCheck.stored,
      duplicatesStored: sentCheck.duplicateRows,
      // Lost: an acknowledged event not in its archive, or an acknowledged recall of an acknowledged
      // message that the message does not show.
      lost: ackedCheck.missing + ackedCheck.notApplied,
      phantoms: sentCheck.phantomRows,
      failedJobs: await queue.getFailedCount(),
      slowestRefusalMs: Math.round(slowestRefusalMs),
      recoveryMs: Math.round(after?.recoveryMs ?? fault.recoveryMs),
      note: [fault.note, after?.note].filter(Boolean).join('; '),
      elapsedMs: Math.round(performance.now() - started),
      ...deliveries,
      ...(backfill && { backfill }),
      timeline: points,
    };
  } finally {
    await timeline?.stop();
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await queue.close().catch(() => {});
    connection.disconnect();
    await Promise.all([redis.dispose(), postgres.dispose()]);
    await destination?.close();
    await tencent?.close();
    if (sinksDir) {
      await rm(sinksDir, { recursive: true, force: true });
    }
  }
}

/** The distinct keys (webhook-ids) of events, as the receiver derives them. */
export function eventKeys(events: readonly GeneratedEvent[]): Set<string> {
  return new Set(
    events.flatMap((event) => {
      const definition = CALLBACK_CATALOG[event.command];
      const parsed = definition && parseStoredBody(definition, event.ref.sdkAppId, event.body);
      return parsed?.ok ? [parsed.key] : [];
    }),
  );
}

const DESTINATION_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

/**
 * Waits until the destination has every acknowledged event (by its key, the webhook-id), then
 * counts what it never got and what it got twice.
 */
async function deliveryCheck(destination: DestinationServer, events: readonly GeneratedEvent[]) {
  const keys = eventKeys(events);
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while ([...keys].some((key) => !destination.delivered().has(key)) && Date.now() < deadline) {
    await sleep(100);
  }
  const delivered = destination.delivered();
  return {
    undelivered: [...keys].filter((key) => !delivered.has(key)).length,
    redelivered: [...delivered.values()].reduce((sum, n) => sum + n - 1, 0),
  };
}

/** No wait in a scenario is open-ended: a stuck pipeline fails the scenario with a reason. */
export const WAIT_LIMIT_MS = 60_000;

function waitLimited<T>(promise: Promise<T>, what: string, ms = WAIT_LIMIT_MS): Promise<T> {
  return withDeadline(promise, ms, `waited ${ms} ms for ${what}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  }
  return h >>> 0;
}
