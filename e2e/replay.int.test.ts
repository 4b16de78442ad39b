import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCallbackFixtures } from '@imsync/fixtures';
import { GROUP_AFTER_RECALL_MSG, GROUP_AFTER_SEND_MSG, SUPPORTED_COMMANDS } from '@imsync/protocol';
import { deliveryQueueName } from '@imsync/queue';
import { repoRoot, signedCallbackUrl, spawnCaptured, startAppProcess, waitFor } from '@imsync/testing';
import { test } from '@imsync/testing/vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { startDestinationServer } from './deliveries/destination-server.js';
import { SDK_APP_ID, startReceiver, TOKEN } from './stack.js';

// `pnpm imsync replay` as an operator runs it, against real receiver and worker processes that
// delivered every fixture to a verifying webhook server once already.

const FIXTURES = loadCallbackFixtures();
const GROUP_MESSAGES = FIXTURES.filter((f) => f.command === GROUP_AFTER_SEND_MSG);
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** `pnpm imsync replay ARGS` to its end: exit code and output (stdout and stderr). */
async function replay(env: Record<string, string>, ...args: string[]) {
  const run = spawnCaptured('pnpm', ['--silent', 'imsync', 'replay', ...args], { cwd: repoRoot, env });
  const code = await run.closed();
  return { code, output: run.output() };
}

/** The JSON summary line of a `--json` run. */
function summary(output: string): Record<string, unknown> {
  const line = output.split('\n').find((each) => each.startsWith('{'));
  if (!line) {
    throw new Error(`no JSON summary in:\n${output}`);
  }
  return JSON.parse(line) as Record<string, unknown>;
}

test('replay re-delivers archived events with their original webhook-id, only those asked for', async ({
  redis,
  databaseUrl,
  onTestFinished,
}) => {
  const dir = await mkdtemp(join(tmpdir(), 'imsync-replay-'));
  const destination = await startDestinationServer(SECRET);
  const sinksFile = join(dir, 'sinks.json');
  await writeFile(
    sinksFile,
    JSON.stringify({
      destinations: [{ name: 'hooks', type: 'http', url: destination.url, secret: SECRET, retrySchedule: '0,1s,1s' }],
    }),
  );
  const prefix = `rpl${process.pid}x${Date.now().toString(36)}`;
  const env = { REDIS_URL: redis.url, DATABASE_URL: databaseUrl, QUEUE_PREFIX: prefix };
  const { receiver, callbackUrl } = await startReceiver({ REDIS_URL: redis.url, QUEUE_PREFIX: prefix });
  const worker = await startAppProcess('worker', {
    ...env,
    TIM_SDK_APP_ID: SDK_APP_ID,
    METRICS_PORT: '0',
    IMSYNC_SINKS_FILE: sinksFile,
  });
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const hooksQueue = new Queue(deliveryQueueName('hooks'), { connection, prefix });
  onTestFinished(async () => {
    await Promise.all([receiver.stop(), worker.stop()]);
    await hooksQueue.close();
    connection.disconnect();
    await destination.close();
    await rm(dir, { recursive: true, force: true });
  });

  // Every fixture (all nine commands; one group recall names two MsgSeqs: two rows, one event).
  const keys = new Map<string, string>();
  for (const fixture of FIXTURES) {
    const url = signedCallbackUrl(callbackUrl, { sdkAppId: SDK_APP_ID, token: TOKEN, command: fixture.command });
    const res = await fetch(url, { method: 'POST', body: fixture.text });
    expect(res.status, fixture.name).toBe(200);
    const line = await receiver.waitForLine(
      (l) => l.msg === 'callback' && l.requestId === res.headers.get('x-request-id'),
    );
    keys.set(fixture.name, String(line.jobId));
  }
  await waitFor(() => destination.ids().size === FIXTURES.length, { what: 'every event delivered', timeoutMs: 30_000 });
  const times = (id: string) => destination.received.filter((r) => r.id === id).length;
  const keyOf = (fixture: (typeof FIXTURES)[number]) => keys.get(fixture.name) ?? '';
  const jobsInQueue = async () => Object.values(await hooksQueue.getJobCounts()).reduce((a, b) => a + b, 0);
  const jobsBefore = await jobsInQueue();

  // A dry run counts events per command (the recall's two rows are one event) and adds nothing.
  const dry = await replay(env, '--to', 'hooks', '--dry-run', '--json');
  expect(dry.code, dry.output).toBe(0);
  const perCommand = Object.fromEntries(
    SUPPORTED_COMMANDS.map((command) => [command, FIXTURES.filter((f) => f.command === command).length]),
  );
  expect(perCommand[GROUP_AFTER_RECALL_MSG]).toBe(2);
  expect(summary(dry.output)).toMatchObject({ dryRun: true, found: perCommand, added: 0, skipped: 0 });
  expect(await jobsInQueue()).toBe(jobsBefore);

  // --since in the future: nothing found, nothing added.
  const future = await replay(env, '--to', 'hooks', '--since', '2100-01-01T00:00Z', '--json');
  expect(future.code, future.output).toBe(0);
  expect(summary(future.output)).toMatchObject({ events: 0, added: 0, found: {} });

  // --group: that group's messages and recalls only, and a word about the C2C commands left out.
  const group = await replay(env, '--to', 'hooks', '--dry-run', '--json', '--group', '@TGS#2QH7MZ4NE');
  expect(group.code, group.output).toBe(0);
  expect(group.output).toMatch(/--group leaves out C2C\.CallbackAfterSendMsg and C2C\.CallbackAfterMsgWithDraw/);
  const inGroup = FIXTURES.filter((f) => f.body.GroupId === '@TGS#2QH7MZ4NE');
  expect(inGroup.length).toBeGreaterThan(1);
  expect(summary(group.output).events).toBe(inGroup.length);
  expect(await jobsInQueue()).toBe(jobsBefore);
  expect(destination.received).toHaveLength(FIXTURES.length);

  // An unknown destination: one line naming the ones there are (pnpm adds its own about the exit code).
  const unknown = await replay(env, '--to', 'nowhere');
  expect(unknown.code).toBe(2);
  expect(unknown.output).not.toMatch(/\n\s+at /);
  expect(unknown.output.split('\n').filter((line) => line.startsWith('imsync'))).toEqual([
    `imsync replay: --to nowhere: no such destination in ${prefix}:destinations (the workers run: hooks)`,
  ]);

  // The real thing: each group message again, with its original webhook-id, signed; nothing else.
  const run = await replay(env, '--to', 'hooks', '--command', GROUP_AFTER_SEND_MSG);
  expect(run.code, run.output).toBe(0);
  expect(run.output).toMatch(new RegExp(`jobs +${GROUP_MESSAGES.length} added \\| 0 skipped`));
  await waitFor(() => GROUP_MESSAGES.every((f) => times(keyOf(f)) === 2), {
    what: 'every group message delivered again',
  });
  for (const fixture of GROUP_MESSAGES) {
    const [original, again] = destination.received.filter((r) => r.id === keyOf(fixture));
    expect(again?.verified, fixture.name).toBe(true);
    // The same envelope byte for byte: id, key, receivedAt (to the millisecond) and the body verbatim.
    expect(again?.body).toBe(original?.body);
    expect(JSON.parse(again?.body ?? '{}')).toMatchObject({ id: keyOf(fixture), type: GROUP_AFTER_SEND_MSG });
  }
  expect(FIXTURES.filter((f) => f.command !== GROUP_AFTER_SEND_MSG).map((f) => times(keyOf(f)))).toEqual(
    FIXTURES.filter((f) => f.command !== GROUP_AFTER_SEND_MSG).map(() => 1),
  );

  // Every command, a row per query (every table's keyset, the recall's rows on two pages): each
  // event once more, under the key the receiver gave it.
  const all = await replay({ ...env, REPLAY_PAGE_ROWS: '1' }, '--to', 'hooks', '--json');
  expect(all.code, all.output).toBe(0);
  expect(summary(all.output)).toMatchObject({ found: perCommand, added: FIXTURES.length, skipped: 0 });
  await waitFor(() => FIXTURES.every((f) => times(keyOf(f)) === (f.command === GROUP_AFTER_SEND_MSG ? 3 : 2)), {
    what: 'every event delivered again',
  });
  expect(destination.ids().size).toBe(FIXTURES.length);
  expect(destination.received.filter((r) => !r.verified)).toEqual([]);
});
