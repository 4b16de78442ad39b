import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCaptured } from './captured.js';
import { spawnOwned } from './child.js';
import { replicasAcknowledge, startLocalRedis, waitForPong } from './local-redis.js';
import { rememberProcessLog, tailOfFile } from './process-log.js';
import { startServerProcess } from './server-process.js';
import type { RedisService } from './services.js';

export interface RedisSentinelService {
  /** The server that was master at start, then its replicas. */
  readonly servers: readonly RedisService[];
  /** `redis+sentinel://127.0.0.1:S1,…/<masterName>`: as imsync's REDIS_URL names it. */
  readonly url: string;
  readonly masterName: string;
  /** The port of the master the Sentinels name now. */
  masterPort(): Promise<number>;
  dispose(): Promise<void>;
}

/**
 * A master, its replicas and three Sentinels watching it, all private `redis-server` processes
 * from PATH on free ports (a Sentinel is `redis-server <its config> --sentinel`). Resolves once
 * every replica has synced and acknowledges writes, and every Sentinel knows the replicas: a
 * failover can then happen, and an enqueue that waits for a replica succeeds.
 */
export async function startLocalRedisSentinel(
  options: { replicas?: number; downAfterMs?: number } = {},
): Promise<RedisSentinelService> {
  const masterName = 'imsync';
  const dir = await mkdtemp(join(tmpdir(), 'imsync-redis-sentinel-'));
  const servers: RedisService[] = [];
  const sentinels: Awaited<ReturnType<typeof startServerProcess>>[] = [];
  const dispose = async () => {
    await Promise.all(sentinels.map((sentinel) => sentinel.kill('SIGKILL')));
    await Promise.all(servers.map((server) => server.dispose()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // A replica (re)attaching resyncs at once, not after the default 5 s wait for others.
    const master = await startLocalRedis({
      dataDir: join(dir, 'server-0'),
      extraArgs: ['--repl-diskless-sync-delay', '0'],
    });
    servers.push(master);
    for (let i = 1; i <= (options.replicas ?? 1); i++) {
      servers.push(
        await startLocalRedis({
          dataDir: join(dir, `server-${i}`),
          extraArgs: ['--replicaof', '127.0.0.1', String(master.port), '--repl-diskless-sync-delay', '0'],
        }),
      );
    }
    for (let i = 0; i < 3; i++) {
      const sentinelDir = join(dir, `sentinel-${i}`);
      await mkdir(sentinelDir, { recursive: true });
      const sentinel = await startServerProcess('redis-server --sentinel', async (port) => {
        const config = join(sentinelDir, 'sentinel.conf');
        // Sentinel rewrites its config file as it learns: each needs a writable one of its own.
        await writeFile(
          config,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `dir ${sentinelDir}`,
            `logfile ${join(sentinelDir, 'sentinel.log')}`,
            `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
            `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
            `sentinel failover-timeout ${masterName} 5000`,
            `sentinel parallel-syncs ${masterName} 1`,
            '',
          ].join('\n'),
        );
        const child = spawnOwned('redis-server', [config, '--sentinel']);
        await waitForPong(port, child);
        return child;
      });
      rememberProcessLog({
        name: 'redis-sentinel',
        pid: sentinel.pid(),
        startedAt: Date.now(),
        lines: () => tailOfFile(join(sentinelDir, 'sentinel.log')),
        running: () => sentinel.running(),
      });
      sentinels.push(sentinel);
    }
    const ask = async (port: number, ...command: string[]) => {
      const cli = spawnCaptured('redis-cli', ['-p', String(port), ...command], { cwd: dir, env: {} });
      await cli.closed();
      return cli.output();
    };
    const deadline = Date.now() + 20_000;
    for (;;) {
      const links = await Promise.all(servers.slice(1).map((server) => ask(server.port, 'info', 'replication')));
      const known = await Promise.all(
        sentinels.map((sentinel) => ask(sentinel.port, 'sentinel', 'replicas', masterName)),
      );
      const synced =
        links.every((info) => /master_link_status:up/.test(info)) &&
        (await replicasAcknowledge(master.port, servers.length - 1));
      const seen = known.every((reply) => servers.slice(1).every((server) => reply.includes(String(server.port))));
      if (synced && seen) {
        break;
      }
      if (Date.now() > deadline) {
        throw new Error('the replicas did not sync, or the Sentinels did not find them, within 20 s');
      }
      // Replication and Sentinel discovery have no event to await from outside: poll them.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return {
      servers,
      masterName,
      url: `redis+sentinel://${sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(',')}/${masterName}`,
      async masterPort() {
        const reply = await ask(sentinels[0]?.port ?? 0, 'sentinel', 'get-master-addr-by-name', masterName);
        return Number(reply.trim().split('\n')[1]);
      },
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
