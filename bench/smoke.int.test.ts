import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@imsync/local-services';
import { expect, test } from 'vitest';

// Keeps `pnpm bench` working: a smoke run (seconds per part, figures meaningless) must produce a
// report with all four targets, and its correctness checks must hold.

test('pnpm bench --smoke writes a report whose correctness checks hold', async ({ onTestFinished }) => {
  const dir = await mkdtemp(join(tmpdir(), 'imsync-bench-smoke-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'BENCHMARKS.md');
  await promisify(execFile)('pnpm', ['bench', '--smoke', '--out', out], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  const report = await readFile(out, 'utf8');
  for (const target of ['1. Receiver throughput', '2. End to end', '3. Worker store rate', '4. Memory']) {
    expect(report).toContain(target);
  }
  expect(report).toContain('Every 200 is backed by a job in Redis: yes');
  expect(report).toContain('Every message stored exactly once in every round: yes');
  expect(report).toMatch(/What a delivery costs\.[\s\S]*µs more worker CPU/);
  expect(report).toMatch(/Stored at the end: (\d+) of \1 acknowledged messages, 0 missing,\n0 duplicate rows/);
}, 180_000);
