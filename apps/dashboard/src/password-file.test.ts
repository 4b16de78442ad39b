import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@imsync/runtime';
import { test as base, expect } from 'vitest';
import { DEMO_PASSWORD } from './config.js';
import { loadOrCreatePassword } from './password-file.js';

// biome-ignore lint/correctness/noEmptyPattern: vitest reads the fixtures a fixture needs from this pattern.
const test = base.extend('dir', async ({}, { onCleanup }) => {
  const dir = await mkdtemp(join(tmpdir(), 'imsync-password-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
});

test('without a file, a strong password is generated and saved where only its owner can read it', async ({ dir }) => {
  const path = join(dir, 'password');
  const first = await loadOrCreatePassword(path, '0.0.0.0');
  expect(first.generated).toBe(true);
  // 18 random bytes in base64url: 24 characters, 144 bits.
  expect(first.password).toMatch(/^[\w-]{24}$/);
  expect(await readFile(path, 'utf8')).toBe(`${first.password}\n`);
  expect((await stat(path)).mode & 0o777).toBe(0o600);

  // The next start reads the same password, and says it did not generate one.
  expect(await loadOrCreatePassword(path, '0.0.0.0')).toEqual({ password: first.password, generated: false });
  expect((await loadOrCreatePassword(join(dir, 'other'), '0.0.0.0')).password).not.toBe(first.password);
});

test('dashboards starting together on one volume agree on one password', async ({ dir }) => {
  const path = join(dir, 'password');
  const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreatePassword(path, '0.0.0.0')));
  expect(new Set(results.map((each) => each.password)).size).toBe(1);
  expect(results.filter((each) => each.generated)).toHaveLength(1);
  expect(await readFile(path, 'utf8')).toBe(`${results[0]?.password}\n`);
});

test('a mounted secret is read as it is, without its trailing newline', async ({ dir }) => {
  const path = join(dir, 'secret');
  await writeFile(path, 'a secret of my own with spaces\n');
  expect(await loadOrCreatePassword(path, '0.0.0.0')).toEqual({
    password: 'a secret of my own with spaces',
    generated: false,
  });
});

test('a file holding a short password, or the demo password off loopback, is refused without showing it', async ({
  dir,
}) => {
  const short = join(dir, 'short');
  await writeFile(short, 'eleven-char\n');
  await expect(loadOrCreatePassword(short, '0.0.0.0')).rejects.toThrow(ConfigError);
  await expect(loadOrCreatePassword(short, '0.0.0.0')).rejects.toThrow(
    /^DASHBOARD_PASSWORD_FILE: .*short must hold a password of at least 12 characters$/,
  );

  const demo = join(dir, 'demo');
  await writeFile(demo, `${DEMO_PASSWORD}\n`);
  const refused = await loadOrCreatePassword(demo, '0.0.0.0').catch((error: Error) => error);
  expect(refused).toBeInstanceOf(ConfigError);
  expect((refused as Error).message).toMatch(/is the published demo password/);
  expect((refused as Error).message).not.toContain(DEMO_PASSWORD);
  expect((await loadOrCreatePassword(demo, '127.0.0.1')).password).toBe(DEMO_PASSWORD);
});

test('a directory the dashboard cannot write to is a ConfigError naming the variable and the fix', async ({ dir }) => {
  const path = join(dir, 'missing-dir', 'password');
  await expect(loadOrCreatePassword(path, '0.0.0.0')).rejects.toThrow(
    /^DASHBOARD_PASSWORD_FILE: cannot create .*missing-dir\/password: .* \(its directory must exist and be writable by the dashboard's user\)$/,
  );
});
