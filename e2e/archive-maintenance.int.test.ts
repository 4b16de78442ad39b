import { createPool } from '@imsync/sinks';
import { repoRoot, spawnCaptured, waitFor } from '@imsync/testing';
import { test } from '@imsync/testing/vitest';
import type pg from 'pg';
import { describe, expect } from 'vitest';

// The archive maintenance as an operator runs it: `pnpm archive:maintain --dry-run` to see what it
// would do, then the long-running process compose starts, read through its metrics.

const DAY_MS = 86_400_000;

/** `pnpm <script> [args]` from the repository root, as README writes it; resolves with its output. */
async function runPnpm(args: string[], env: Record<string, string>) {
  const run = spawnCaptured('pnpm', ['--silent', ...args], { cwd: repoRoot, env });
  return { code: await run.closed(), output: run.output() };
}

/** A migrated archive with one group message per given day (days before today, UTC). */
async function archiveWithDays(databaseUrl: string, daysAgo: number[]): Promise<pg.Pool> {
  const migrated = await runPnpm(['migrate'], { DATABASE_URL: databaseUrl });
  expect(migrated.code, migrated.output).toBe(0);
  const pool = createPool({ connectionString: databaseUrl, max: 2, onIdleError: () => {} });
  for (const [i, ago] of daysAgo.entries()) {
    await pool.query(
      `INSERT INTO group_messages (sdk_app_id, group_id, msg_seq, random, msg_time, from_account, group_type, payload, received_at)
       VALUES (1600012345, 'g1', $1, 1, $2, 'alice', 'Public', '{}', now())`,
      [i + 1, new Date(Date.now() - ago * DAY_MS)],
    );
  }
  return pool;
}

const where = async (pool: pg.Pool) =>
  (
    await pool.query<{ seq: number; partition: string }>(
      'SELECT msg_seq::int AS seq, tableoid::regclass::text AS partition FROM group_messages ORDER BY msg_seq',
    )
  ).rows;

describe('archive maintenance', () => {
  test('--dry-run says what it would create, move and drop, and changes nothing', async ({ databaseUrl }) => {
    // `pnpm migrate` made this week's partitions; 10 and 20 days ago wait in the default partition.
    const pool = await archiveWithDays(databaseUrl, [0, 10, 20]);
    try {
      const before = await where(pool);
      expect(before.map((row) => row.partition)).toEqual([
        expect.stringMatching(/^group_messages_p\d{8}$/),
        'group_messages_default',
        'group_messages_default',
      ]);
      const run = await runPnpm(['archive:maintain', '--dry-run'], {
        DATABASE_URL: databaseUrl,
        ARCHIVE_RETENTION_DAYS: '15',
      });
      expect(run.code, run.output).toBe(0);
      const report = JSON.parse(run.output.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
      expect(report).toMatchObject({ msg: 'archive maintenance done', dryRun: true, retentionDryRun: true });
      // The two old days would get their partition (their row moved), and the one 20 days ago be dropped.
      expect(report.created).toEqual(
        expect.arrayContaining([expect.stringMatching(/^group_messages_p\d{8} \(1 rows moved\)$/)]),
      );
      expect((report.created as string[]).filter((c) => c.includes('1 rows moved'))).toHaveLength(2);
      expect(report.wouldDrop).toEqual([expect.stringMatching(/^group_messages_p\d{8}$/)]);
      expect(await where(pool)).toEqual(before);
    } finally {
      await pool.end();
    }
  });

  test('the service moves waiting rows to their day, drops days past retention, and says so in its metrics', async ({
    databaseUrl,
  }) => {
    const pool = await archiveWithDays(databaseUrl, [0, 2, 30]);
    const service = spawnCaptured('pnpm', ['--silent', 'archive:maintain'], {
      cwd: repoRoot,
      env: { DATABASE_URL: databaseUrl, ARCHIVE_RETENTION_DAYS: '7', METRICS_PORT: '0', LOG_LEVEL: 'info' },
    });
    try {
      const port = await waitFor(() => service.output().match(/"metricsPort":(\d+)/)?.[1], {
        what: 'the maintenance service listening',
        timeoutMs: 30_000,
      });
      const metrics = () => fetch(`http://127.0.0.1:${port}/metrics`).then((reply) => reply.text());
      await waitFor(async () => (await metrics()).includes('imsync_archive_maintenance_runs_total{outcome="ok"'), {
        what: 'a maintenance pass done',
      });
      const text = await metrics();
      expect(text).toMatch(/imsync_archive_partitions_dropped_total\{table="group_messages"[^}]*\} 1\n/);
      expect(text).toMatch(/imsync_archive_rows_moved_total\{table="group_messages"[^}]*\} 2\n/);
      expect(text).toMatch(/imsync_archive_default_partition_rows\{table="group_messages"[^}]*\} 0\n/);
      expect(text).toMatch(/imsync_archive_partitions_past_retention\{table="group_messages"[^}]*\} 0\n/);
      // Kept: today's and 2 days ago, each in the partition of its day; 30 days ago is gone.
      const rows = await where(pool);
      expect(rows.map((row) => row.seq)).toEqual([1, 2]);
      expect(rows.every((row) => /^group_messages_p\d{8}$/.test(row.partition))).toBe(true);
      expect(service.output()).not.toContain('archive maintenance failed');
    } finally {
      await service.stop();
      await pool.end();
    }
  });
});
