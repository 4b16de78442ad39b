import { existsSync } from 'node:fs';
import { startLocalRedis } from '@imsync/local-services';
import {
  type CallbackJobData,
  closeRedis,
  createProducer,
  createQueueLayout,
  createRedis,
  type RedisClient,
  redisTarget,
} from '@imsync/queue';
import { freePort, type RedisService, repoRoot, spawnCaptured } from '@imsync/testing';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  apps,
  type ComposeService,
  composeDefaults,
  composeSchemaErrors,
  dockerComposeConfig,
  dockerComposeInstalled,
  envExample,
  environmentProblems,
  interpolate,
  read,
  readCompose,
  root,
} from './compose-files.js';

// docker-compose.cluster.yml, checked offline as deploy-files.int.test.ts checks docker-compose.yml
// (no Docker engine here), and its Redis scripts run for real on local redis-server processes:
// the nodes started with the file's own arguments, the cluster created by its init script, and
// imsync's queues run on it as imsync's ACL user.

const FILE = 'docker-compose.cluster.yml';
const { text, compose } = readCompose(FILE);
const main = readCompose('docker-compose.yml').compose;
const services = compose.services;
const service = (name: string) => services[name] as ComposeService;
const INIT = 'redis-cluster-init';
const APPS = Object.keys(apps) as (keyof typeof apps)[];
/** The variables only this file reads; the others must have .env.example's defaults. */
const CLUSTER_ONLY_VARIABLES = [
  'CLUSTER_QUEUE_SHARDS',
  'CLUSTER_REDIS_WAIT_REPLICAS',
  'REDIS_CLUSTER_PASSWORD',
  'REDIS_CLUSTER_NET',
];

/** The Redis Cluster nodes: the services started by the node script. */
const nodeNames = Object.keys(services).filter((name) =>
  service(name).entrypoint?.join(' ').endsWith('/start-redis-cluster-node.sh'),
);

/** An app's container environment with every variable at its default (no .env). */
const environmentOf = (name: string) =>
  Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([key, value]) => [key, interpolate(value)]));

/** The repository file a container path is mounted from (bind mounts of this repository only). */
function mountedFrom(name: string, containerPath: string): string | undefined {
  for (const volume of service(name).volumes ?? []) {
    const [source = '', target = ''] = volume.split(':');
    if (source.startsWith('./') && containerPath.startsWith(`${target}/`)) {
      return `${source.slice(2)}${containerPath.slice(target.length)}`;
    }
  }
  return undefined;
}

const ipNumber = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipNumber(ip) / size) === Math.floor(ipNumber(base) / size);
}

/** A service's command with compose's defaults substituted. */
const commandOf = (name: string) => (service(name).command ?? []).map((arg) => interpolate(arg));

test(`${FILE} is a valid compose file (compose-spec schema)`, () => {
  expect(composeSchemaErrors(compose)).toEqual([]);
  // docker-compose 1.x, which validates offline, rejects a top-level `name:`.
  expect(Object.keys(compose)).not.toContain('name');
});

test('docker-compose config -q accepts it (when docker-compose is installed, as in CI)', ({ skip }) => {
  skip(!dockerComposeInstalled() && !process.env.CI, 'docker-compose not installed (apt: docker-compose)');
  dockerComposeConfig(FILE);
});

describe.each(APPS)('%s', (name) => {
  test('sets every variable the app requires, and only variables the app reads', () => {
    const { unread, missing } = environmentProblems(service(name), apps[name].schema);
    expect(unread).toEqual([]);
    expect(missing).toEqual([]);
  });

  test('its config accepts the environment with every default: a cluster of all six nodes, three shards', () => {
    // As the app loads it at start (an empty variable counts as unset); a bad one throws, naming it.
    const config = apps[name].load(environmentOf(name));
    const target = redisTarget(config);
    expect(target).toMatchObject({ kind: 'cluster', username: 'imsync', tls: false });
    const nodes = target.kind === 'cluster' ? target.nodes.map((node) => `${node.host}:${node.port}`) : [];
    expect(nodes).toEqual(nodeNames.map((node) => `${node}:6379`));
    expect(config.QUEUE_SHARDS).toBe(3);
    // The dashboard enqueues nothing, so it does not set it (and reads the default, 0).
    expect(config.REDIS_WAIT_REPLICAS).toBe(name === 'dashboard' ? 0 : 1);
  });

  test('starts once the cluster is created and healthy, not before', () => {
    expect(service(name).depends_on?.[INIT]?.condition).toBe('service_completed_successfully');
    const redisDependencies = Object.keys(service(name).depends_on ?? {}).filter((each) => each.startsWith('redis'));
    expect(redisDependencies).toEqual([INIT]);
  });
});

test('the app services are those of docker-compose.yml, but for the Redis they use and wait for', () => {
  const redisVariables = ['REDIS_URL', 'QUEUE_SHARDS', 'REDIS_WAIT_REPLICAS'];
  const apart = (each: ComposeService | undefined) => {
    const { environment = {}, depends_on = {}, ...rest } = each ?? {};
    return {
      ...rest,
      environment: Object.fromEntries(Object.entries(environment).filter(([key]) => !redisVariables.includes(key))),
      depends_on: Object.fromEntries(Object.entries(depends_on).filter(([key]) => !key.startsWith('redis'))),
    };
  };
  for (const name of [...APPS, 'migrate', 'archive-maintenance', 'postgres']) {
    expect(apart(services[name]), name).toEqual(apart(main.services[name]));
  }
  // Every receiver, worker and dashboard must agree on the shards.
  const shards = new Set(APPS.map((name) => service(name).environment?.QUEUE_SHARDS));
  // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own substitution syntax, as the file spells it.
  expect([...shards]).toEqual(['${CLUSTER_QUEUE_SHARDS:-3}']);
});

describe('least privilege', () => {
  test.each([...APPS, 'migrate', 'archive-maintenance', INIT, ...nodeNames])(
    '%s: read-only root filesystem, no capabilities, no privilege gain',
    (name) => {
      expect(service(name).read_only).toBe(true);
      expect(service(name).cap_drop).toEqual(['ALL']);
      expect(service(name).cap_add).toBeUndefined();
      expect(service(name).security_opt).toContain('no-new-privileges:true');
    },
  );

  test('the dashboard is published on 127.0.0.1 only; no Redis port (nor the cluster bus) is published', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: as above.
    expect(service('dashboard').ports).toEqual(['127.0.0.1:${DASHBOARD_PORT:-3000}:3000']);
    for (const name of [...nodeNames, INIT]) {
      expect(service(name).ports, name).toBeUndefined();
    }
  });

  test('Redis runs as its own user; the apps log in as imsync and never get the cluster password', () => {
    for (const name of [...nodeNames, INIT]) {
      expect(service(name).user, name).toBe('redis');
    }
    for (const name of nodeNames) {
      // The same user and password as the apps' URL, and as docker-compose.yml's Redis.
      expect(service(name).environment?.REDIS_PASSWORD).toBe(main.services.redis?.environment?.REDIS_PASSWORD);
      expect(service(name).environment?.REDIS_CLUSTER_PASSWORD).toBe(service(INIT).environment?.REDIS_CLUSTER_PASSWORD);
    }
    expect(service(INIT).environment?.REDIS_PASSWORD).toBeUndefined();
    for (const name of [...APPS, 'migrate']) {
      expect(JSON.stringify(service(name).environment), name).not.toContain('REDIS_CLUSTER_PASSWORD');
    }
    const password = service('redis-1').environment?.REDIS_PASSWORD;
    for (const name of APPS) {
      expect(service(name).environment?.REDIS_URL, name).toContain(`://imsync:${password}@`);
    }
  });
});

describe('the Redis nodes', () => {
  test("are six, each a cluster node with AOF, no eviction, its slots served while another master's wait for a failover, a health check and a volume of its own", () => {
    expect(nodeNames).toEqual(['redis-1', 'redis-2', 'redis-3', 'redis-4', 'redis-5', 'redis-6']);
    const dataVolumes = new Set<string>();
    for (const name of nodeNames) {
      const command = commandOf(name).join(' ');
      expect(command).toMatch(/--cluster-enabled yes/);
      expect(command).toMatch(/--cluster-config-file nodes\.conf/);
      expect(command).toMatch(/--appendonly yes/);
      expect(command).toMatch(/--maxmemory-policy noeviction/);
      expect(command).toMatch(/--cluster-require-full-coverage no/);
      expect(service(name).healthcheck).toBeDefined();
      expect(service(name).image).toBe(main.services.redis?.image);
      const data =
        service(name)
          .volumes?.find((volume) => volume.endsWith(':/data'))
          ?.split(':')[0] ?? '';
      expect(Object.keys(compose.volumes ?? {})).toContain(data);
      dataVolumes.add(data);
    }
    expect(dataVolumes.size).toBe(nodeNames.length);
  });

  test('are started by the node script, which adds the cluster user to start-redis.sh ACL', () => {
    for (const name of nodeNames) {
      const script = mountedFrom(name, service(name).entrypoint?.at(-1) ?? '');
      expect(script).toBe('deploy/redis/start-redis-cluster-node.sh');
      expect(existsSync(`${root}${script}`)).toBe(true);
      expect(service(name).volumes?.find((volume) => volume.startsWith('./'))).toMatch(/:ro$/);
    }
    expect(read('deploy/redis/start-redis-cluster-node.sh')).toMatch(/start-redis\.sh/);
    expect(read('deploy/redis/start-redis.sh')).toMatch(
      /^\s*printf 'user cluster on #%s resetkeys resetchannels -@all /m,
    );
  });

  test('announce a name the other containers resolve: their own service name', () => {
    for (const name of nodeNames) {
      expect(commandOf(name).join(' ')).toMatch(/--cluster-preferred-endpoint-type hostname/);
      // The node script announces the container's hostname; compose's DNS resolves the service name.
      expect(service(name).hostname).toBe(name);
    }
    expect(read('deploy/redis/start-redis-cluster-node.sh')).toMatch(/--cluster-announce-hostname "\$hostname"/);
  });

  test('have fixed addresses in the network, outside the range other containers get theirs from', () => {
    const ipam = compose.networks?.default?.ipam?.config?.[0] ?? {};
    const subnet = interpolate(ipam.subnet ?? '');
    const dynamic = interpolate(ipam.ip_range ?? '');
    expect(subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    const addresses = nodeNames.map((name) => interpolate(service(name).networks?.default?.ipv4_address ?? ''));
    expect(new Set(addresses).size).toBe(nodeNames.length);
    for (const address of addresses) {
      expect(inCidr(address, subnet), address).toBe(true);
      expect(inCidr(address, dynamic), address).toBe(false);
    }
    expect(inCidr(dynamic.split('/')[0] ?? '', subnet)).toBe(true);
  });
});

describe('redis-cluster-init', () => {
  test('runs redis-cli --cluster create on the six nodes, a replica per master', () => {
    const init = service(INIT);
    const script = mountedFrom(INIT, init.entrypoint?.at(-1) ?? '');
    expect(script).toBe('deploy/redis/create-cluster.sh');
    expect(read(script ?? '')).toMatch(
      /redis-cli --user cluster --cluster create \$nodes --cluster-replicas "\$replicas" --cluster-yes/,
    );
    expect(init.command).toEqual(nodeNames.map((node) => `${node}:6379`));
    const replicas = Number(init.environment?.REDIS_CLUSTER_REPLICAS);
    expect(replicas).toBe(1);
    // Three masters: Redis's minimum, each with the replica REDIS_WAIT_REPLICAS waits for.
    expect(nodeNames.length / (1 + replicas)).toBe(3);
    expect(Number(environmentOf('receiver').REDIS_WAIT_REPLICAS)).toBeLessThanOrEqual(replicas);
  });

  test('starts once every node is healthy, and runs to completion (no restart)', () => {
    const init = service(INIT);
    expect(init.depends_on).toEqual(
      Object.fromEntries(nodeNames.map((node) => [node, { condition: 'service_healthy' }])),
    );
    expect(init.restart).toBe('no');
    expect(init.image).toBe(main.services.redis?.image);
  });
});

test('.env.example has every variable this file shares with docker-compose.yml, with the same default', () => {
  const example = envExample();
  const used = composeDefaults(text);
  expect(used.length).toBeGreaterThan(5);
  for (const [name, fallback] of used) {
    if (example.has(name)) {
      expect(example.get(name), name).toBe(fallback);
    } else {
      expect(CLUSTER_ONLY_VARIABLES, name).toContain(name);
    }
  }
});

describe('the node and init scripts, run on local redis-server processes', () => {
  const REDIS_PASSWORD = 'compose-cluster-imsync-password';
  const REDIS_CLUSTER_PASSWORD = 'compose-cluster-nodes-password';
  const nodes: RedisService[] = [];
  let addresses: string[] = [];

  /** The init service's script, on these nodes. */
  const createCluster = (targets: readonly string[]) => {
    const run = spawnCaptured('sh', [`${repoRoot}/deploy/redis/create-cluster.sh`, ...targets], {
      cwd: repoRoot,
      env: { ...environmentOf(INIT), REDIS_CLUSTER_PASSWORD, REDIS_CLUSTER_WAIT_SECONDS: '30' },
    });
    return run.closed().then((code) => ({ code, output: run.output() }));
  };

  /** A node as compose starts it: the node script with the file's own arguments, on a free port. */
  const startNode = async () =>
    startLocalRedis({
      launcher: {
        script: `${repoRoot}/deploy/redis/start-redis-cluster-node.sh`,
        // `localhost` stands for the service name compose's DNS resolves.
        env: { REDIS_PASSWORD, REDIS_CLUSTER_PASSWORD, REDIS_ANNOUNCE_HOSTNAME: 'localhost' },
      },
      auth: { user: 'imsync', password: REDIS_PASSWORD },
      extraArgs: [
        ...commandOf('redis-1'),
        // The cluster bus beside a free port, and localhost whether it resolves to IPv4 or IPv6.
        '--cluster-port',
        String(await freePort()),
        '--bind',
        '127.0.0.1',
        '-::1',
      ],
    });

  beforeAll(async () => {
    for (const _ of nodeNames) {
      nodes.push(await startNode());
    }
    addresses = nodes.map((node) => `localhost:${node.port}`);
  });
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.dispose()));
  });

  test('the init script creates the cluster once, and leaves it alone on the next `up`', async () => {
    const first = await createCluster(addresses);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/creating the cluster/);
    expect(first.output).toMatch(/the cluster is ok/);
    const again = await createCluster(addresses);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toMatch(/the cluster exists; not creating it again/);
    expect(again.output).not.toMatch(/creating the cluster/);
  });

  test('imsync runs its sharded queues on it as its ACL user, each job held by a replica', async () => {
    const url = `redis+cluster://imsync:${REDIS_PASSWORD}@${addresses.join(',')}`;
    const receiver = environmentOf('receiver');
    const target = redisTarget({ REDIS_URL: url });
    const layout = createQueueLayout({ prefix: 'imsync', shards: Number(receiver.QUEUE_SHARDS), cluster: true });
    const producerConnection = createRedis(target, { role: 'producer' });
    const workerConnection = createRedis(target, { role: 'worker' });
    const connections: RedisClient[] = [producerConnection, workerConnection];
    await untilReady(producerConnection);
    const processed = new Set<string>();
    const workers = layout.ingest.map(
      (location) =>
        new Worker(location.name, async (job) => void processed.add(`${location.name}/${job.id}`), {
          connection: workerConnection,
          prefix: location.prefix,
        }),
    );
    try {
      const producer = createProducer({
        connection: producerConnection,
        layout,
        waitReplicas: Number(receiver.REDIS_WAIT_REPLICAS),
        timeoutMs: 2000,
      });
      const data = (n: number): CallbackJobData => ({ sdkAppId: '1600012345', body: `{"n":${n}}`, receivedAt: n });
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, (_, n) => producer.enqueue('group-message', data(n), `gm-${n}`, `@TGS#${n}`)),
      );
      expect(outcomes).toEqual(Array(30).fill('added'));
      const deadline = Date.now() + 20_000;
      while (processed.size < 30 && Date.now() < deadline) {
        // BullMQ has no event for "every queue drained" across queues: poll.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(processed.size).toBe(30);
      // The routes spread over every shard.
      expect(new Set([...processed].map((job) => job.split('/')[0])).size).toBe(layout.ingest.length);
      await producer.close();
    } finally {
      await Promise.all(workers.map((worker) => worker.close()));
      await Promise.all(connections.map(closeRedis));
    }
  });

  test('imsync cannot change the cluster; the cluster user reaches no key; the default user is off', async () => {
    const clients: Redis[] = [];
    const as = (username?: string, password?: string) => {
      const client = new Redis({
        port: nodes[0]?.port,
        username,
        password,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
      });
      // Refusals are what this test expects; they reach the commands' promises.
      client.on('error', () => {});
      clients.push(client);
      return client;
    };
    try {
      const imsync = as('imsync', REDIS_PASSWORD);
      await expect(imsync.cluster('INFO')).resolves.toMatch(/cluster_state:ok/);
      await expect(imsync.call('CLUSTER', 'MEET', '127.0.0.1', '1')).rejects.toThrow(/NOPERM/);
      await expect(imsync.call('CLUSTER', 'RESET')).rejects.toThrow(/NOPERM/);
      const cluster = as('cluster', REDIS_CLUSTER_PASSWORD);
      await expect(cluster.call('CLUSTER', 'NODES')).resolves.toBeTruthy();
      await expect(cluster.get('imsync:anything')).rejects.toThrow(/NOPERM/);
      await expect(as().ping()).rejects.toThrow(/NOAUTH/);
    } finally {
      for (const client of clients) {
        client.disconnect();
      }
    }
  });

  test('the init script refuses a node outside the existing cluster (a node whose volume was lost), saying why', async () => {
    const stray = await startNode();
    try {
      const run = await createCluster([...addresses, `localhost:${stray.port}`]);
      expect(run.code).toBe(1);
      expect(run.output).toMatch(new RegExp(`a cluster exists .*, but not on localhost:${stray.port}`));
      expect(run.output).toMatch(/redis-cli --user cluster --cluster check/);
    } finally {
      await stray.dispose();
    }
  });
});

async function untilReady(client: RedisClient): Promise<void> {
  if (client.status !== 'ready') {
    await new Promise((resolve) => client.once('ready', resolve));
  }
}
