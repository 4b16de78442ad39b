import { createUniqueDatabase, freePort, type PostgresService, type RedisService } from '@imsync/local-services';
import type { StartedTestContainer } from 'testcontainers';

// Host ports are fixed at creation so a restarted container comes back where clients look for it.

export async function startRedisContainer(appendfsync: string): Promise<RedisService> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const port = await freePort();
  const container = await new GenericContainer('redis:7.4-alpine')
    .withExposedPorts({ container: 6379, host: port })
    .withCommand([
      'redis-server',
      '--appendonly',
      'yes',
      '--appendfsync',
      appendfsync,
      '--maxmemory-policy',
      'noeviction',
    ])
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  return { ...lifecycle(container, port), url: `redis://127.0.0.1:${port}` };
}

export async function startPostgresContainer(): Promise<PostgresService> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const port = await freePort();
  const container = await new GenericContainer('postgres:15-alpine')
    .withExposedPorts({ container: 5432, host: port })
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    ...lifecycle(container, port),
    url,
    createDatabase: async () => url(await createUniqueDatabase(url())),
  };
}

function lifecycle(container: StartedTestContainer, port: number) {
  return {
    host: '127.0.0.1',
    port,
    pid: () => undefined,
    async stop(mode: 'graceful' | 'crash' = 'graceful') {
      await container.exec(['sh', '-c', `kill -${mode === 'crash' ? 'KILL' : 'TERM'} 1`]).catch(() => {});
    },
    async start() {
      await container.restart();
    },
    async dispose() {
      await container.stop();
    },
  };
}
