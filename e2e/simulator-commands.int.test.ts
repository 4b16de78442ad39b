import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  C2C_AFTER_MSG_WITHDRAW,
  GROUP_AFTER_RECALL_MSG,
  JOB_KINDS,
  type JobKind,
  SUPPORTED_COMMANDS,
} from '@imsync/protocol';
import { type ArchiveCheck, checkArchive, type EventRef, runLoad, waitUntilArchived } from '@imsync/simulator';
import { startAppProcess } from '@imsync/testing';
import { test as base } from '@imsync/testing/vitest';
import pg from 'pg';
import { expect } from 'vitest';
import { startReceiver } from './stack.js';

// The simulator against real processes: every supported command, for two apps, into the archive of
// each; and `--verify` telling what an archive lacks.

const root = fileURLToPath(new URL('../', import.meta.url));
const cli = ['--import', 'tsx', 'apps/cli/src/main.ts'];
const A = '1400000001';
const B = '1400000002';
const TIM_APPS = `${A}:tokA,${B}:tokB`;

let counter = 0;

/** A receiver and a worker serving apps A and B (the receiver checks each app's own token). */
const test = base
  .extend('queuePrefix', async () => `simcmd${process.pid}x${++counter}`)
  .extend('receiver', async ({ redis, queuePrefix }, { onCleanup }) => {
    const { receiver, callbackUrl } = await startReceiver({
      REDIS_URL: redis.url,
      QUEUE_PREFIX: queuePrefix,
      TIM_APPS,
    });
    onCleanup(async () => {
      await receiver.stop();
    });
    return callbackUrl;
  })
  .extend('pipeline', async ({ redis, queuePrefix, databaseUrl, receiver }, { onCleanup }) => {
    const worker = await startAppProcess('worker', {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: queuePrefix,
      DATABASE_URL: databaseUrl,
      TIM_APPS: `${A},${B}`,
      METRICS_PORT: '0',
      WORKER_CONCURRENCY: '20',
    });
    onCleanup(async () => {
      await worker.stop();
    });
    return { callbackUrl: receiver, databaseUrl };
  });

async function query<T extends pg.QueryResultRow>(databaseUrl: string, text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await client.query<T>(text, values);
  } finally {
    await client.end();
  }
}

test('pnpm imsync send --commands all --apps A:tokA,B:tokB --count 300 --verify: every command of both apps lands in its archive', async ({
  pipeline,
}) => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      ...cli,
      'send',
      ...['--url', pipeline.callbackUrl, '--commands', 'all', '--apps', TIM_APPS, '--count', '300'],
      ...['--rate', '400', '--seed', '7', '--verify', '--json'],
    ],
    { cwd: root, env: { PATH: process.env.PATH ?? '', DATABASE_URL: pipeline.databaseUrl } },
  );
  const summary = JSON.parse(stdout) as {
    sent: number;
    acknowledged: number;
    rejected: Record<string, number>;
    acknowledgedEvents: number;
    sentByCommand: Record<string, number>;
    earlyRecalls: Record<string, number>;
    verification: ArchiveCheck;
  };
  expect(summary).toMatchObject({ sent: 330, acknowledged: 330, failed: 0, apps: [A, B] });
  expect(summary.rejected).toEqual({});
  expect(Object.keys(summary.sentByCommand).sort()).toEqual([...SUPPORTED_COMMANDS].sort());
  expect(summary.earlyRecalls[GROUP_AFTER_RECALL_MSG]).toBeGreaterThan(0);
  expect(summary.earlyRecalls[C2C_AFTER_MSG_WITHDRAW]).toBeGreaterThan(0);

  const verification = summary.verification;
  expect(verification).toMatchObject({
    stored: summary.acknowledgedEvents,
    missing: 0,
    duplicateRows: 0,
    notApplied: 0,
    wrongSendResult: 0,
  });
  for (const app of [A, B]) {
    const kinds = verification.apps[app] ?? {};
    expect(Object.keys(kinds).sort()).toEqual([...JOB_KINDS].sort());
    for (const [kind, check] of Object.entries(kinds)) {
      expect(check.stored, `${app} ${kind}`).toBeGreaterThan(0);
      // No row the run did not send (a group recall has a row per message it names).
      if (kind !== 'group-recall') {
        expect(check.totalRows, `${app} ${kind}`).toBe(check.stored);
      }
    }
  }

  // The archive itself, not the simulator's word for it.
  const { rows } = await query<{ app: string; recalled: number; withdrawn: number; failed: number; commands: number }>(
    pipeline.databaseUrl,
    `SELECT app::text,
            (SELECT count(*) FROM group_messages WHERE sdk_app_id = app AND recalled_at IS NOT NULL)::int AS recalled,
            (SELECT count(*) FROM c2c_messages WHERE sdk_app_id = app AND recalled_at IS NOT NULL)::int AS withdrawn,
            (SELECT count(*) FROM c2c_messages WHERE sdk_app_id = app AND send_result <> 0)::int AS failed,
            (SELECT count(DISTINCT command) FROM group_events WHERE sdk_app_id = app)::int AS commands
     FROM unnest($1::bigint[]) AS app ORDER BY app`,
    [[A, B]],
  );
  expect(rows).toEqual([
    { app: A, recalled: expect.any(Number), withdrawn: expect.any(Number), failed: expect.any(Number), commands: 5 },
    { app: B, recalled: expect.any(Number), withdrawn: expect.any(Number), failed: expect.any(Number), commands: 5 },
  ]);
  for (const row of rows) {
    expect(Math.min(row.recalled, row.withdrawn, row.failed), row.app).toBeGreaterThan(0);
  }
});

test('the archive check names what an archive lacks, per app and kind', async ({ pipeline }) => {
  const { databaseUrl } = pipeline;
  const summary = await runLoad({
    url: pipeline.callbackUrl,
    apps: new Map([
      [A, ['tokA']],
      [B, ['tokB']],
    ]),
    commands: SUPPORTED_COMMANDS,
    count: 200,
    rate: 0,
    concurrency: 8,
    seed: 8,
  });
  expect(summary.acknowledged).toBe(summary.sent);
  const events = summary.acknowledgedEvents;
  expect(await waitUntilArchived(databaseUrl, events, 60_000)).toMatchObject({
    stored: 200,
    missing: 0,
    duplicateRows: 0,
    notApplied: 0,
    wrongSendResult: 0,
  });

  const of = <K extends EventRef['kind']>(app: string, kind: K) =>
    events.filter((e): e is Extract<EventRef, { kind: K }> => e.sdkAppId === app && e.kind === kind);
  const recalledSeqs = new Set(of(B, 'group-recall').flatMap((r) => r.msgSeqs.map((seq) => `${r.groupId} ${seq}`)));
  const lost = of(B, 'group-message').find((m) => !recalledSeqs.has(`${m.identity.groupId} ${m.identity.msgSeq}`));
  const delivered = of(B, 'c2c-message').find((m) => m.sendResult === 0);
  const withdrawal = of(A, 'c2c-recall')[0];
  const [event] = of(A, 'group-event');
  const [copied] = of(B, 'group-event');
  if (!lost || !delivered || !withdrawal || !event || !copied) {
    throw new Error('the run lacks an event this test changes');
  }
  // A's group recalls no longer applied; a row of four kinds gone; one with another result; one twice.
  await query(databaseUrl, 'UPDATE group_messages SET recalled_at = NULL WHERE sdk_app_id = $1', [A]);
  await query(databaseUrl, 'DELETE FROM group_messages WHERE sdk_app_id = $1 AND group_id = $2 AND msg_seq = $3', [
    B,
    lost.identity.groupId,
    lost.identity.msgSeq,
  ]);
  await query(databaseUrl, 'DELETE FROM c2c_recalls WHERE sdk_app_id = $1 AND msg_key = $2', [A, withdrawal.msgKey]);
  await query(databaseUrl, 'DELETE FROM group_events WHERE event_key = $1', [event.eventKey]);
  await query(databaseUrl, 'UPDATE c2c_messages SET send_result = 80001 WHERE sdk_app_id = $1 AND msg_key = $2', [
    B,
    delivered.msgKey,
  ]);
  await query(databaseUrl, 'ALTER TABLE group_events DROP CONSTRAINT group_events_event_key_key');
  await query(
    databaseUrl,
    `INSERT INTO group_events (sdk_app_id, event_key, command, group_id, payload, received_at)
     SELECT sdk_app_id, event_key, command, group_id, payload, received_at FROM group_events WHERE event_key = $1`,
    [copied.eventKey],
  );

  const check = await checkArchive(databaseUrl, events);
  const expected: Record<string, Partial<Record<JobKind, object>>> = {
    [A]: {
      'group-recall': { missing: 0, notApplied: of(A, 'group-recall').length },
      'c2c-recall': { missing: 1, notApplied: 0 },
      'group-event': { missing: 1, duplicateRows: 0 },
    },
    [B]: {
      'group-message': { missing: 1 },
      'group-recall': { notApplied: 0 },
      'c2c-message': { missing: 0, wrongSendResult: 1 },
      'group-event': { missing: 0, duplicateRows: 1 },
    },
  };
  expect(check.apps).toMatchObject(expected);
  expect(check).toMatchObject({
    missing: 3,
    duplicateRows: 1,
    notApplied: of(A, 'group-recall').length,
    wrongSendResult: 1,
  });
  expect(of(A, 'group-recall').length).toBeGreaterThan(0);
});
