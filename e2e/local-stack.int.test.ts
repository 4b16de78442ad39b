import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { exited, freePort, spawnOwned } from '@imsync/testing';
import { expect, test } from 'vitest';

// `pnpm start` then `pnpm imsync send`, as a newcomer runs them: private Redis and PostgreSQL from
// PATH, a receiver and two workers; the sent messages land; Ctrl-C leaves nothing running.

const root = fileURLToPath(new URL('../', import.meta.url));
const cli = ['--import', 'tsx', 'apps/cli/src/main.ts'];

test('the local stack comes up, takes simulated callbacks into PostgreSQL, and stops cleanly on Ctrl-C', async ({
  onTestFinished,
}) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'imsync-stack-'));
  // As root, PostgreSQL runs as `postgres` and must be able to enter the data dir's parent.
  await chmod(dataDir, 0o755);
  onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
  const port = String(await freePort());
  const dashboardPort = String(await freePort());
  const env = { PATH: process.env.PATH ?? '', IMSYNC_DATA_DIR: dataDir, PORT: port, DASHBOARD_PORT: dashboardPort };
  const stack = spawnOwned(process.execPath, [...cli, 'stack', '--workers', '2'], { cwd: root, env });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    stack.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ctrl-C stops everything')) {
        resolve();
      }
    });
    stack.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    stack.once('exit', (code) => reject(new Error(`stack exited (${code}) before it was up:\n${output}`)));
  });
  const databaseUrl = output.match(/PostgreSQL\s+(postgres:\/\/\S+)/)?.[1] ?? '';
  expect(databaseUrl).toMatch(/\/imsync$/);
  expect(output).toMatch(new RegExp(`callback URL\\s+http://127.0.0.1:${port}/im/callback`));
  expect((await fetch(`http://127.0.0.1:${dashboardPort}/readyz`)).status).toBe(200);

  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...cli, 'send', '--count', '100', '--rate', '200', '--duplicates', '0.2', '--verify', '--json'],
    { cwd: root, env: { ...env, DATABASE_URL: databaseUrl } },
  );
  const summary = JSON.parse(stdout) as { sent: number; acknowledged: number; verification: Record<string, number> };
  expect(summary.sent).toBe(120);
  expect(summary.acknowledged).toBe(120);
  expect(summary.verification).toMatchObject({ stored: 100, missing: 0, duplicateRows: 0, totalRows: 100 });

  stack.kill('SIGINT');
  expect(await exited(stack)).toBe(0);
  expect(output).toContain('stopped.');
  // Nothing the stack started is left: no server on its data dir, no receiver on its port.
  expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(dataDir);
  await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
});
