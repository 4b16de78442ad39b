import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedis, destinationsKey } from '@imsync/queue';
import { freePort, repoRoot, spawnCaptured, startAppProcess } from '@imsync/testing';
import { test } from '@imsync/testing/vitest';
import { expect, onTestFinished } from 'vitest';
import { DEMO_PASSWORD } from '../src/config.js';

// The dashboard as a process: what it says, and refuses, when it starts.

const USER = 'operator';

/** `pnpm start:dashboard` as README runs it, to its exit; resolves with its exit code and every line it wrote. */
async function runToExit(env: Record<string, string>) {
  const dashboard = spawnCaptured('pnpm', ['start:dashboard'], { cwd: repoRoot, env });
  // A dashboard that should have stopped but runs on is stopped here, so the test fails at once.
  const deadline = setTimeout(() => void dashboard.stop('SIGKILL'), 20_000);
  const code = await dashboard.closed();
  clearTimeout(deadline);
  return { code, lines: dashboard.output().split('\n') };
}

async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), 'imsync-dashboard-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Posts the login form to a running dashboard; resolves with the status and whether a session cookie came back. */
async function logIn(port: number, password: string) {
  const res = await fetch(`http://127.0.0.1:${port}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user: USER, password }).toString(),
  });
  return { status: res.status, session: res.headers.getSetCookie().some((each) => each.startsWith('imsync_session=')) };
}

test('a PORT that is taken stops the dashboard with one line naming PORT, and no stack trace', async ({ redis }) => {
  const holder = createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  onTestFinished(() => {
    holder.close();
  });
  const { port } = holder.address() as { port: number };

  const { code, lines } = await runToExit({
    REDIS_URL: redis.url,
    HOST: '127.0.0.1',
    PORT: String(port),
    DASHBOARD_USER: USER,
    DASHBOARD_PASSWORD: 'a-password-of-my-own',
  });
  expect(code).toBe(1);
  expect(lines.filter((line) => line.startsWith('imsync-dashboard:'))).toEqual([
    `imsync-dashboard: PORT: 127.0.0.1:${port} is already in use (another imsync process on this host?); set PORT to a free port, or 0 for any free port`,
  ]);
  expect(lines.join('\n')).not.toMatch(/EADDRINUSE|\n\s+at |dashboard listening/);
});

test('off loopback, the demo password stops the dashboard before it listens, saying why, never the password', async ({
  redis,
}) => {
  const { code, lines } = await runToExit({
    REDIS_URL: redis.url,
    HOST: '0.0.0.0',
    PORT: String(await freePort()),
    DASHBOARD_USER: USER,
    DASHBOARD_PASSWORD: DEMO_PASSWORD,
  });
  expect(code).toBe(1);
  const output = lines.join('\n');
  expect(output).toMatch(
    /imsync-dashboard: invalid configuration:\n {2}DASHBOARD_PASSWORD is the published demo password/,
  );
  expect(output).not.toContain(DEMO_PASSWORD);
  expect(output).not.toContain('dashboard listening');
});

test('with DASHBOARD_PASSWORD empty and no password file yet, the dashboard generates one, says where, and keeps it', async ({
  redis,
}) => {
  const path = join(await tempDir(), 'password');
  const output: string[] = [];
  const env = {
    REDIS_URL: redis.url,
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    DASHBOARD_USER: USER,
    // What compose passes when DASHBOARD_PASSWORD is not set.
    DASHBOARD_PASSWORD: '',
    DASHBOARD_PASSWORD_FILE: path,
  };
  const first = await startAppProcess('dashboard', env, { onOutput: (line) => output.push(line) });
  let password = '';
  try {
    password = (await readFile(path, 'utf8')).trim();
    expect(password).toMatch(/^[\w-]{24}$/);
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    // One line says where the password is and how to read it; no line shows it.
    const told = first.lines.filter((line) => String(line.msg).includes(path));
    expect(told).toHaveLength(1);
    expect(told[0]?.msg).toContain(`docker compose exec dashboard cat ${path}`);
    expect(told[0]?.passwordFile).toBe(path);
    expect(output.join('\n')).not.toContain(password);

    expect(await logIn(Number(env.PORT), password)).toEqual({ status: 303, session: true });
    expect(await logIn(Number(env.PORT), DEMO_PASSWORD)).toEqual({ status: 303, session: false });
  } finally {
    await first.stop();
  }

  // Restarted: the same password, and nothing generated.
  const second = await startAppProcess('dashboard', env);
  try {
    expect(second.lines.filter((line) => String(line.msg).includes(path))).toEqual([]);
    expect(await logIn(Number(env.PORT), password)).toEqual({ status: 303, session: true });
  } finally {
    await second.stop();
  }
});

test('served, the dashboard shows and measures the queues of the destinations the workers registered', async ({
  redis,
}) => {
  const prefix = `proc${process.pid}x${Date.now().toString(36)}`;
  const writer = createRedis(redis.url, { role: 'worker' });
  onTestFinished(() => writer.disconnect());
  await writer.sadd(destinationsKey(prefix), 'crm', 'Not Valid');
  const port = await freePort();
  const dashboard = await startAppProcess('dashboard', {
    REDIS_URL: redis.url,
    HOST: '127.0.0.1',
    PORT: String(port),
    DASHBOARD_LOCAL_ONLY: 'true',
    QUEUE_PREFIX: prefix,
  });
  try {
    await dashboard.waitForLine((line) => line.msg === 'destination queue found' && line.destination === 'crm');
    const skipped = await dashboard.waitForLine((line) => String(line.msg).startsWith('skipped a destination'));
    expect(skipped).toMatchObject({ level: 'warn', destination: 'Not Valid' });

    const listing = (await (await fetch(`http://127.0.0.1:${port}/queues/api/queues`)).json()) as {
      queues: { name: string; description: string }[];
    };
    expect(listing.queues.map(({ name }) => name)).toEqual(['group-messages', 'backfill', 'deliver-crm']);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^imsync_queue_oldest_pending_age_seconds\{queue="deliver-crm"[^}]*\} 0$/m);
  } finally {
    // Shutdown closes the queues it found as well, and exits cleanly.
    expect(await dashboard.stop()).toBe(0);
  }
});
