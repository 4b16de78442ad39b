import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@imsync/local-services';
import { runsAlone } from '@imsync/testing/vitest';
import { expect, test } from 'vitest';

// Keeps `pnpm bench` working: a smoke run (seconds per part, figures meaningless) must produce a
// report with all five targets and the answers, and its correctness checks must hold.

// wrk at saturation and the sizing runs: one such file at a time.
runsAlone();

test('pnpm bench --smoke writes a report whose correctness checks hold', async ({ onTestFinished }) => {
  const dir = await mkdtemp(join(tmpdir(), 'imsync-bench-smoke-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'BENCHMARKS.md');
  await promisify(execFile)('pnpm', ['bench', '--smoke', '--out', out], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  const report = await readFile(out, 'utf8');
  for (const target of [
    '1. Receiver throughput',
    '2. Worker drain rate',
    '3. Steady load',
    '4. Ack p99',
    '4b. Ack p99 of `pnpm start`',
    '5. Memory',
    '### The add script',
    '### Per-callback logging, GC and the steady load',
  ]) {
    expect(report).toContain(target);
  }
  expect(report).toMatch(/Every\nacknowledged message stored once: yes/);
  // Each path of the add comparison and each question's variant has its row.
  for (const row of [
    '| script |',
    '| addBulk |',
    '| autoPipelining |',
    '| LOG_CALLBACKS=none |',
    '| 1000/s | pnpm start |',
  ]) {
    expect(report).toContain(row);
  }
  expect(report).toContain('Every 200 is backed by a job in Redis: yes');
  expect(report).toContain('Every message stored exactly once in every round: yes');
  expect(report).toMatch(/What a delivery costs\.[\s\S]*µs more worker CPU/);
  expect(report).toMatch(/Stored at the end: (\d+) of \1 acknowledged messages, 0 missing,\n0 duplicate rows/);
  // The charts: embedded in the report, drawn as SVG files beside it.
  for (const chart of ['receiver-throughput', 'worker-drain', 'steady-cpu', 'latency', 'backlog']) {
    expect(report).toContain(`(docs/charts/bench/${chart}.svg)`);
    expect(await readFile(join(dir, `docs/charts/bench/${chart}.svg`), 'utf8')).toMatch(/^<svg /);
  }
  // Builds the apps, then runs every part for seconds, beside other test files on two cores.
}, 420_000);

test('pnpm bench:sizing --smoke writes the sizing guide, with the shards spreading the queue work over the masters', async ({
  onTestFinished,
}) => {
  const dir = await mkdtemp(join(tmpdir(), 'imsync-sizing-smoke-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'sizing.md');
  await promisify(execFile)('pnpm', ['bench:sizing', '--smoke', '--out', out], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
  });
  const guide = await readFile(out, 'utf8');
  for (const section of [
    '## What one message costs',
    '## Worker processes on one Redis',
    '## Shards on a Redis Cluster',
    '## The arithmetic for a peak',
  ]) {
    expect(guide).toContain(section);
  }
  // The busiest node's share of Redis work: one shard puts it all on one master, three spread it.
  const busiest = (shards: number) =>
    Number(
      new RegExp(`^\\| ${shards} \\|.*\\| (\\d+) \\(\\d+–\\d+\\) % \\|$`, 'm').exec(
        guide.split('## Shards')[1] ?? '',
      )?.[1],
    );
  // With one shard, one master does most of the work (over 80 % in full runs, 73–76 % in smoke
  // runs under side load); three shards must take a good part of it off that master.
  expect(busiest(1)).toBeGreaterThan(50);
  expect(busiest(3)).toBeLessThan(busiest(1) * 0.8);
}, 300_000);

test('pnpm bench:archive --smoke rewrites its own sections of BENCHMARKS.md and README.md, and nothing else', async ({
  onTestFinished,
}) => {
  const dir = await mkdtemp(join(tmpdir(), 'imsync-archive-smoke-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const benchmarks = join(dir, 'BENCHMARKS.md');
  const readme = join(dir, 'README.md');
  const before = {
    benchmarks: '# Benchmarks\n\nThe rest of the file.\n',
    readme:
      '# imsync\n\n<!-- archive-plans: generated, do not edit -->\nold plans\n<!-- /archive-plans -->\n\n## After\n',
  };
  await writeFile(benchmarks, before.benchmarks);
  await writeFile(readme, before.readme);
  await promisify(execFile)('pnpm', ['bench:archive', '--smoke', '--benchmarks', benchmarks, '--readme', readme], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
  });
  const report = await readFile(benchmarks, 'utf8');
  expect(report.startsWith(before.benchmarks.trimEnd())).toBe(true);
  expect(report).toContain('## Archive at scale');
  for (const row of [
    '| partitioned |',
    '| unpartitioned (baseline) |',
    "| A group's latest 50 messages, newest first |",
  ]) {
    expect(report).toContain(row);
  }
  // Retention dropped the oldest day's partition, and the DELETE it is compared with removed as many rows.
  expect(report).toMatch(/one day \([\d,]+ rows\) goes in \d+ ms as a dropped partition/);
  const plans = await readFile(readme, 'utf8');
  expect(plans).not.toContain('old plans');
  expect(plans).toMatch(/Index Scan Backward using group_messages_p\*_sdk_app_id_from_account_msg_time_idx/);
  expect(plans.endsWith('<!-- /archive-plans -->\n\n## After\n')).toBe(true);
}, 300_000);
