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
  // A SIGTERM that comes while Redis writes its first AOF (a replica does, right after a full sync)
  // is refused ("Writing initial AOF, can't exit") and not tried again: send it until it exits.
  const stop = (mode: 'graceful' | 'crash' = 'graceful') =>
    mode === 'crash' ? server.kill('SIGKILL') : server.kill('SIGTERM', { repeatEveryMs: 1000 });

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

async function ping(port: number): Promise<boolean> {
  const [reply = ''] = await inlineCommands(port, ['PING']);
  // "-LOADING" while the AOF is replayed: not ready yet. "-NOAUTH": up, and wants a password.
  return reply.startsWith('+PONG') || reply.startsWith('-NOAUTH');
}

/**
 * True once `replicas` replicas acknowledge a write on the master at `port` (within 100 ms). A
 * replica reports `master_link_status:up` before that: after a diskless sync, Redis 7.0 streams
 * writes to a replica only once its next REPLCONF ACK comes, up to a second later, and a WAIT
 * meanwhile counts it out.
 */
export async function replicasAcknowledge(port: number, replicas: number): Promise<boolean> {
  const [, waited = ''] = await inlineCommands(port, ['INCR imsync:replication-probe', `WAIT ${replicas} 100`]);
  return /^:\d+$/.test(waited) && Number(waited.slice(1)) >= replicas;
}

/**
 * Sends Redis inline commands on one connection and resolves with their one-line replies (none
 * when the server does not answer within 1 s), with no client library in this package.
 */
function inlineCommands(port: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write(commands.map((command) => `${command}\r\n`).join('')));
    socket.on('data', (data) => {
      reply += data.toString();
      const lines = reply.split('\r\n');
      if (lines.length > commands.length) {
        socket.end();
        resolve(lines.slice(0, commands.length));
      }
    });
    socket.on('error', () => resolve([]));
    socket.on('close', () => resolve([]));
  });
}
