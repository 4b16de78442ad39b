import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnOwned } from './child.js';
import { rememberProcessLog, tailOfFile } from './process-log.js';
import { startServerProcess } from './server-process.js';
import type { RedisService } from './services.js';

export interface RedisServerOptions {
  /** AOF fsync policy; `everysec` is what production runs. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Where the data lives and survives restarts; a temporary dir, removed by dispose(), if absent. */
  dataDir?: string;
  /**
   * A script that starts `redis-server` with the arguments it is given (compose's
   * `deploy/redis/start-redis.sh`, say), and the environment it reads.
   */
  launcher?: { script: string; env: Record<string, string> };
  /** Credentials the URL carries (the launcher's ACL user). */
  auth?: { user: string; password: string };
  /** More `redis-server` arguments (a cluster node's, say). */
  extraArgs?: readonly string[];
}

/** Starts a private `redis-server` from PATH on a free port, with AOF on. */
export async function startLocalRedis(options: RedisServerOptions = {}): Promise<RedisService> {
  const dir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'imsync-redis-')));
  await mkdir(dir, { recursive: true });
  const server = await startServerProcess('redis-server (is it on PATH?)', async (port) => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      options.appendfsync ?? 'everysec',
      '--save',
      '',
      '--latency-monitor-threshold',
      '1',
      '--maxmemory-policy',
      'noeviction',
      '--protected-mode',
      'no',
      '--daemonize',
      'no',
      '--logfile',
      join(dir, 'redis.log'),
      ...(options.extraArgs ?? []),
    ];
    const { launcher } = options;
    const child = launcher
      ? spawnOwned('sh', [launcher.script, ...args], {
          env: { PATH: process.env.PATH ?? '', REDIS_ACL_FILE: join(dir, 'users.acl'), ...launcher.env },
        })
      : spawnOwned('redis-server', args);
    await waitForPong(port, child);
    return child;
  });
  const { port } = server;
  rememberProcessLog({
    name: 'redis-server',
    pid: server.pid(),
    startedAt: Date.now(),
    lines: () => tailOfFile(join(dir, 'redis.log')),
    running: () => server.running(),
  });
  const stop = (mode: 'graceful' | 'crash' = 'graceful') => server.kill(mode === 'crash' ? 'SIGKILL' : 'SIGTERM');

  return {
    host: '127.0.0.1',
    port,
    url: options.auth
      ? `redis://${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.password)}@127.0.0.1:${port}`
      : `redis://127.0.0.1:${port}`,
    stop,
    start: () => server.start(),
    pid: () => server.pid(),
    async dispose() {
      if (options.dataDir) {
        await stop('graceful');
      } else {
        await stop('crash');
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

export async function waitForPong(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited with ${child.exitCode ?? child.signalCode}`);
    }
    if (await ping(port)) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not answer PING within 10 s');
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      reply += data.toString();
      if (reply.includes('\r\n')) {
        socket.end();
        // "-LOADING" while the AOF is replayed: not ready yet. "-NOAUTH": up, and wants a password.
        resolve(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
      }
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}
