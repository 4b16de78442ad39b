import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCaptured } from './captured.js';
import { startLocalRedis } from './local-redis.js';
import { freePort } from './ports.js';
import type { RedisService } from './services.js';

export interface RedisClusterOptions {
  /** Masters, each holding a share of the 16384 slots (3 at least, Redis's own minimum). */
  masters?: number;
  /** Replicas per master: with 1, a killed master's replica takes over. */
  replicas?: number;
  /** How long a node may be unreachable before it counts as failed (and its replica is promoted). */
  nodeTimeoutMs?: number;
}

export interface RedisClusterService {
  /** Every node, masters first as `redis-cli --cluster create` assigned them at start. */
  readonly nodes: readonly RedisService[];
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,…`: every node, as imsync's REDIS_URL names a cluster. */
  readonly url: string;
  /** Resolves once every node that answers says `cluster_state:ok` (after a failover, say). */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * A Redis Cluster of private `redis-server` processes from PATH on free ports (each with an
 * explicit cluster bus port, since port + 10000 may be taken), created with `redis-cli --cluster
 * create`. Resolves once every node reports `cluster_state:ok`.
 */
export async function startLocalRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterService> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const dir = await mkdtemp(join(tmpdir(), 'imsync-redis-cluster-'));
  const nodes: RedisService[] = [];
  const dispose = async () => {
    await Promise.all(nodes.map((node) => node.dispose()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const nodeDir = join(dir, `node-${i}`);
      nodes.push(
        await startLocalRedis({
          dataDir: nodeDir,
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(nodeDir, 'nodes.conf'),
            '--cluster-node-timeout',
            String(options.nodeTimeoutMs ?? 2000),
            '--cluster-port',
            String(await freePort()),
            // A node back after a crash resyncs at once, not after the default 5 s wait for others.
            '--repl-diskless-sync-delay',
            '0',
          ],
        }),
      );
    }
    const create = spawnCaptured(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { cwd: dir, env: {} },
    );
    if ((await create.closed()) !== 0) {
      throw new Error(`redis-cli --cluster create failed: ${create.output().slice(-2000)}`);
    }
  } catch (error) {
    await dispose();
    throw error;
  }

  const waitUntilHealthy = async (timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // A node a test stopped does not answer; every node that does must say ok, and every
      // replica must have synced with its master (one that never did cannot take over).
      const states = await Promise.all(nodes.map((node) => nodeState(node.port)));
      const answering = states.filter((state) => state !== 'unreachable');
      if (answering.length > 0 && answering.every((state) => state === 'ok')) {
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`the cluster is not healthy after ${timeoutMs} ms: ${states.join(', ')}`);
      }
      // Cluster state has no event to await from outside: poll it.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    await waitUntilHealthy();
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    nodes,
    url: `redis+cluster://${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`,
    waitUntilHealthy,
    dispose,
  };
}

/** `ok`, `unreachable`, or what is not ready yet (the cluster state, a replica's link). */
async function nodeState(port: number): Promise<string> {
  const ask = async (...command: string[]) => {
    const cli = spawnCaptured('redis-cli', ['-p', String(port), ...command], { cwd: tmpdir(), env: {} });
    await cli.closed();
    return cli.output();
  };
  const cluster = /cluster_state:(\w+)/.exec(await ask('cluster', 'info'))?.[1];
  if (cluster === undefined) {
    return 'unreachable';
  }
  if (cluster !== 'ok') {
    return `cluster ${cluster}`;
  }
  const replication = await ask('info', 'replication');
  const link = /master_link_status:(\w+)/.exec(replication)?.[1];
  return link === undefined || link === 'up' ? 'ok' : `replica link ${link}`;
}
