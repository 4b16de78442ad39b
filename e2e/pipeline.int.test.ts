import { loadFixtures } from '@imsync/fixtures';
import { waitFor } from '@imsync/testing';
import pg from 'pg';
import { expect } from 'vitest';
import { signed, test } from './stack.js';

test('every fixture posted to the receiver ends up exactly once in group_messages, byte for byte', async ({
  stack,
}) => {
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  try {
    const fixtures = loadFixtures();
    const post = (text: string) =>
      fetch(signed(stack.receiverUrl), {
        method: 'POST',
        body: text,
      });

    // Each fixture twice, concurrently: the second is the same message and must not be stored again.
    const replies = await Promise.all([...fixtures, ...fixtures].map((f) => post(f.text)));
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));

    await db.connect();
    const count = async () => (await db.query('SELECT count(*)::int AS n FROM group_messages')).rows[0].n as number;
    await waitFor(async () => (await count()) === fixtures.length, { what: `${fixtures.length} stored rows` });

    // The concurrent second posts became no job at all (same job id): one job per message, all stored.
    const worker = stack.workers[0];
    await waitFor(() => worker?.lines.filter((l) => l.msg === 'job done').length === fixtures.length, {
      what: 'jobs done',
    });
    expect(worker?.lines.filter((l) => l.msg === 'job done').every((l) => l.outcome === 'stored')).toBe(true);
    const { rows } = await db.query<{ payload: string }>('SELECT payload::text AS payload FROM group_messages');
    expect(rows.map((r) => r.payload).sort()).toEqual(fixtures.map((f) => f.text).sort());
    expect(await count()).toBe(fixtures.length);
  } finally {
    await db.end().catch(() => {});
    const codes = await stack.stop();
    // SIGTERM is a clean shutdown for both processes.
    expect(codes).toEqual([0, 0]);
  }
});
