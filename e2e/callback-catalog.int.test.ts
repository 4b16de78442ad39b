import { loadCallbackFixtures } from '@imsync/fixtures';
import { signedCallbackUrl, startAppProcess, waitFor } from '@imsync/testing';
import { test } from '@imsync/testing/vitest';
import pg from 'pg';
import { expect } from 'vitest';
import { SDK_APP_ID, startReceiver, TOKEN } from './stack.js';

// Every command of the catalog, for two apps side by side, through real receiver, Redis, worker
// and PostgreSQL processes: each stored or applied once, recalls landing whichever comes first.

const OTHER_APP = '1400000001';
const OTHER_TOKEN = 'other-app-token-1';
const ROTATED_TOKEN = 'rotated-in-token-2';
const FIXTURES = loadCallbackFixtures();
const isRecall = (command: string) => command.includes('Recall') || command.includes('WithDraw');

test('two apps, every command, recalls before and after their messages: all stored once and applied', async ({
  redis,
  databaseUrl,
}) => {
  // The first app from TIM_SDK_APP_ID/TIM_CALLBACK_TOKEN (startReceiver) plus a rotated token, the
  // second from TIM_APPS: both forms together.
  const apps = `${SDK_APP_ID}:${ROTATED_TOKEN},${OTHER_APP}:${OTHER_TOKEN}`;
  const { receiver, callbackUrl } = await startReceiver({ REDIS_URL: redis.url, TIM_APPS: apps });
  const worker = await startAppProcess('worker', {
    REDIS_URL: redis.url,
    DATABASE_URL: databaseUrl,
    TIM_APPS: `${SDK_APP_ID},${OTHER_APP}`,
    METRICS_PORT: '0',
  });
  const db = new pg.Client({ connectionString: databaseUrl });
  try {
    const post = (text: string, command: string, sdkAppId: string, token: string) =>
      fetch(signedCallbackUrl(callbackUrl, { sdkAppId, token, command }), { method: 'POST', body: text });
    const sendAll = async (sdkAppId: string, token: string, fixtures: typeof FIXTURES) => {
      const replies = await Promise.all(fixtures.map((f) => post(f.text, f.command, sdkAppId, token)));
      expect(replies.map((r) => r.status)).toEqual(fixtures.map(() => 200));
    };
    // App one: recalls first, then everything else (twice: repeats are stored once). App two: the
    // other way round. The first app signs with its old token and its rotated one alike.
    const recalls = FIXTURES.filter((f) => isRecall(f.command));
    const others = FIXTURES.filter((f) => !isRecall(f.command));
    await sendAll(SDK_APP_ID, TOKEN, recalls);
    await sendAll(SDK_APP_ID, ROTATED_TOKEN, others);
    await sendAll(SDK_APP_ID, TOKEN, others);
    await sendAll(OTHER_APP, OTHER_TOKEN, others);
    await sendAll(OTHER_APP, OTHER_TOKEN, recalls);

    // Each app's own tokens only; an app not served is refused.
    const text = others[0]?.text ?? '';
    expect((await post(text, 'Group.CallbackAfterSendMsg', OTHER_APP, TOKEN)).status).toBe(401);
    expect((await post(text, 'Group.CallbackAfterSendMsg', SDK_APP_ID, OTHER_TOKEN)).status).toBe(401);
    expect((await post(text, 'Group.CallbackAfterSendMsg', '1400000999', OTHER_TOKEN)).status).toBe(403);

    await db.connect();
    const count = async (sql: string) => (await db.query<{ n: number }>(sql)).rows[0]?.n;
    const groupMessages = FIXTURES.filter((f) => f.command === 'Group.CallbackAfterSendMsg').length;
    await waitFor(
      async () =>
        (await count(`SELECT count(*)::int AS n FROM group_messages`)) === 2 * groupMessages &&
        (await count(`SELECT count(*)::int AS n FROM group_events`)) === 2 * 5 &&
        (await count(`SELECT count(*)::int AS n FROM c2c_messages`)) === 2 * 3 &&
        (await count(`SELECT count(*)::int AS n FROM group_messages WHERE recalled_at IS NOT NULL`)) === 2 * 3 &&
        (await count(`SELECT count(*)::int AS n FROM c2c_messages WHERE recalled_at IS NOT NULL`)) === 2 * 2,
      { what: 'every event of both apps stored and every recall applied', timeoutMs: 30_000 },
    );
    // Per app: the same numbers, nothing of one app applied to the other.
    const { rows } = await db.query<{ sdk_app_id: string; recalled: number; c2c_recalled: number; events: number }>(
      `SELECT g.sdk_app_id::text,
              count(*) FILTER (WHERE g.recalled_at IS NOT NULL)::int AS recalled,
              (SELECT count(*) FROM c2c_messages c WHERE c.sdk_app_id = g.sdk_app_id AND c.recalled_at IS NOT NULL)::int AS c2c_recalled,
              (SELECT count(*) FROM group_events e WHERE e.sdk_app_id = g.sdk_app_id)::int AS events
       FROM group_messages g GROUP BY g.sdk_app_id ORDER BY 1`,
    );
    expect(rows).toEqual([
      { sdk_app_id: OTHER_APP, recalled: 3, c2c_recalled: 2, events: 5 },
      { sdk_app_id: SDK_APP_ID, recalled: 3, c2c_recalled: 2, events: 5 },
    ]);
    // Nothing failed, and the repeats were no new work.
    expect(worker.lines.filter((line) => line.msg === 'job failed')).toEqual([]);
  } finally {
    await db.end().catch(() => {});
    await Promise.all([receiver.stop(), worker.stop()]);
  }
});
