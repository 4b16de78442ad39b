import { once } from 'node:events';
import { loadFixture } from '@imsync/fixtures';
import { BACKFILL_QUEUE, createRedis, GAP_SCAN_JOB } from '@imsync/queue';
import { type FakeTencent, startFakeTencent } from '@imsync/tencent';
import { type AppProcess, startAppProcess, waitFor } from '@imsync/testing';
import { test as base } from '@imsync/testing/vitest';
import { Queue } from 'bullmq';
import pg from 'pg';
import { SDK_APP_ID, signed, startReceiver } from '../stack.js';

// Gap detection and backfill through real processes: a receiver, workers pointed at a fake of
// Tencent's REST API that runs in the test (real HTTP on 127.0.0.1), and the test's own database.

/** The app's secret key: the fake checks the workers' UserSigs against it. */
const SECRET_KEY = 'e2e-backfill-secret-key-2026';

/**
 * Seconds, not a minute: a hole is backfilled once it is two seconds old (time enough for a test
 * to post a sequence's first messages and then the rest), scans run four times a second and each
 * sequence's tail is asked of Tencent every second.
 */
const FAST_GAPS = {
  GAP_GRACE_SECONDS: '2',
  GAP_SCAN_INTERVAL_MS: '250',
  GAP_TAIL_CHECK_SECONDS: '1',
};

export interface GapWorker {
  readonly process: AppProcess;
  /** The sum of the samples of `name` on the worker's /metrics that carry `labels` (0 when none). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export interface BackfillRig {
  fake: FakeTencent;
  databaseUrl: string;
  receiverUrl: string;
  /** The test's own database: read what the workers wrote. */
  db: pg.Client;
  /** The backfill queue (gap scans and history pages) of the test's prefix. */
  backfillQueue: Queue;
  /** A worker with gap detection on, the fake as Tencent and fast gap settings, `env` on top. */
  startWorker(env?: Record<string, string>): Promise<GapWorker>;
  /** Posts callback bodies to the receiver one after the other, each expected to get a 200. */
  post(...bodies: string[]): Promise<void>;
  /** Resolves once these seqs of the sequence have a row each. */
  stored(groupId: string, topicId: string, seqs: readonly number[]): Promise<void>;
  /** Resolves once `count` gap scans that started after `since` (ms since the epoch) have finished. */
  scans(count: number, since: number): Promise<void>;
}

let counter = 0;

export const test = base.extend('backfill', async ({ redis, databaseUrl }, { onCleanup }): Promise<BackfillRig> => {
  const prefix = `bf${process.pid}x${++counter}`;
  // Undone last first: the processes stop before the fake and the database they use go.
  const cleanups: (() => Promise<unknown>)[] = [];
  onCleanup(async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup();
    }
  });
  const fake = await startFakeTencent({ apps: { [SDK_APP_ID]: SECRET_KEY } });
  cleanups.push(() => fake.close());
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  cleanups.push(() => db.end());
  const connection = createRedis(redis.url, { role: 'producer' });
  await once(connection, 'ready');
  const backfillQueue = new Queue(BACKFILL_QUEUE, { connection, prefix });
  cleanups.push(async () => {
    await backfillQueue.close();
    connection.disconnect();
  });
  const { receiver, callbackUrl } = await startReceiver({ REDIS_URL: redis.url, QUEUE_PREFIX: prefix });
  cleanups.push(() => receiver.stop());

  const startWorker = async (env: Record<string, string> = {}): Promise<GapWorker> => {
    const worker = await startAppProcess('worker', {
      REDIS_URL: redis.url,
      DATABASE_URL: databaseUrl,
      QUEUE_PREFIX: prefix,
      TIM_SDK_APP_ID: SDK_APP_ID,
      TIM_API_BASE_URL: fake.url,
      TIM_SECRET_KEY: SECRET_KEY,
      METRICS_PORT: '0',
      WORKER_CONCURRENCY: '20',
      ...FAST_GAPS,
      ...env,
    });
    cleanups.push(() => worker.stop());
    const started = await worker.waitForLine((line) => line.msg === 'worker started');
    const metricsUrl = `http://127.0.0.1:${String(started.port)}/metrics`;
    return {
      process: worker,
      async metric(name, labels = {}) {
        const text = await (await fetch(metricsUrl)).text();
        const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
        let sum = 0;
        for (const line of text.split('\n')) {
          const sample = line.match(/^([a-z_:]+)(?:\{(.*)\})? (\S+)$/);
          const present = sample?.[2]?.split(',') ?? [];
          if (sample?.[1] === name && wanted.every((label) => present.includes(label))) {
            sum += Number(sample[3]);
          }
        }
        return sum;
      },
    };
  };

  return {
    fake,
    databaseUrl,
    receiverUrl: callbackUrl,
    db,
    backfillQueue,
    startWorker,
    async post(...bodies) {
      for (const body of bodies) {
        const response = await fetch(signed(callbackUrl), { method: 'POST', body });
        if (response.status !== 200) {
          throw new Error(`the receiver answered ${response.status} to ${body.slice(0, 120)}`);
        }
      }
    },
    async stored(groupId, topicId, seqs) {
      await waitFor(
        async () => {
          const { rows } = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM group_messages
               WHERE group_id = $1 AND topic_id = $2 AND msg_seq = ANY($3::bigint[])`,
            [groupId, topicId, seqs],
          );
          return rows[0]?.n === seqs.length;
        },
        { what: `seqs ${seqs.join(', ')} of ${groupId} ${topicId} stored` },
      );
    },
    async scans(count, since) {
      // Each scan is a job of the backfill queue; finished ones are kept there.
      await waitFor(
        async () => {
          const jobs = await backfillQueue.getJobs(['completed'], 0, 1000);
          return jobs.filter((job) => job.name === GAP_SCAN_JOB && (job.processedOn ?? 0) > since).length >= count;
        },
        { what: `${count} gap scans after ${new Date(since).toISOString()}`, intervalMs: 50 },
      );
    },
  };
});

const FIXTURE = loadFixture('text-public').body as { MsgTime: number; EventTime: number };

/**
 * The `Group.CallbackAfterSendMsg` body of `seq` in `groupId` (and `topicId`), of type `Public`
 * unless given: the same text each time for the same arguments, as a redelivery would be, and each
 * seq with its own Random, MsgId and times, as Tencent gives them.
 */
export function messageBody(groupId: string, seq: number, options: { topicId?: string; type?: string } = {}): string {
  const msgTime = FIXTURE.MsgTime + seq;
  return JSON.stringify({
    ...FIXTURE,
    GroupId: groupId,
    Type: options.type ?? 'Public',
    ...(options.topicId !== undefined && { TopicId: options.topicId }),
    Random: 100_000 + seq,
    MsgSeq: seq,
    MsgId: `144115225981402317-${msgTime}-${100_000 + seq}`,
    MsgTime: msgTime,
    MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: `message ${seq}` } }],
    EventTime: FIXTURE.EventTime + seq * 1000,
  });
}

/** `from`…`to`, both included. */
export const seqs = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export interface HoleRow {
  topicId: string;
  fromSeq: number;
  toSeq: number;
  state: string;
}

/** Every hole found in the test's database, by sequence and seq. */
export async function holes(db: pg.Client): Promise<HoleRow[]> {
  const { rows } = await db.query<HoleRow>(
    `SELECT topic_id AS "topicId", from_seq::int AS "fromSeq", to_seq::int AS "toSeq", state
     FROM sequence_holes ORDER BY group_id, topic_id, from_seq`,
  );
  return rows;
}

/** Every seq accounted for without a message, as `seq kind`. */
export async function accounts(db: pg.Client): Promise<{ topicId: string; seq: number; kind: string }[]> {
  const { rows } = await db.query<{ topicId: string; seq: number; kind: string }>(
    `SELECT topic_id AS "topicId", msg_seq::int AS seq, kind FROM sequence_accounts ORDER BY group_id, topic_id, msg_seq`,
  );
  return rows;
}

/** The rows of one sequence, seq by seq, with where each came from (`callback` or `backfill`). */
export async function storedSeqs(db: pg.Client, groupId: string, topicId = ''): Promise<[number, string][]> {
  const { rows } = await db.query<{ seq: number; source: string }>(
    `SELECT msg_seq::int AS seq, source FROM group_messages WHERE group_id = $1 AND topic_id = $2 ORDER BY msg_seq`,
    [groupId, topicId],
  );
  return rows.map((row) => [row.seq, row.source]);
}
