import { type AppProcess, freePort, type PostgresService, type RedisService, startAppProcess } from '@imsync/testing';

export const SDK_APP_ID = '1600012345';
export const TOKEN = 'k3m9-ChatCb-Token-2026';

export interface Stack {
  receiverUrl: string;
  databaseUrl: string;
  prefix: string;
  receiver: AppProcess;
  workers: AppProcess[];
  stop(): Promise<void>;
}

let counter = 0;

/** The receiver and `workers` worker processes, started as `pnpm start:*` would, on private services. */
export async function startStack(redis: RedisService, postgres: PostgresService, workers = 1): Promise<Stack> {
  const databaseUrl = await postgres.createDatabase();
  const prefix = `e2e${process.pid}x${++counter}`;
  const common = { REDIS_URL: redis.url, QUEUE_PREFIX: prefix };
  const port = await freePort();
  const receiver = await startAppProcess('receiver', {
    ...common,
    TIM_SDK_APP_ID: SDK_APP_ID,
    TIM_CALLBACK_TOKEN: TOKEN,
    PORT: String(port),
    HOST: '127.0.0.1',
  });
  const started = await Promise.all(
    Array.from({ length: workers }, () =>
      startAppProcess('worker', { ...common, DATABASE_URL: databaseUrl, METRICS_PORT: '0', WORKER_CONCURRENCY: '20' }),
    ),
  );
  return {
    receiverUrl: `http://127.0.0.1:${port}/im/callback`,
    databaseUrl,
    prefix,
    receiver,
    workers: started,
    async stop() {
      await Promise.all([receiver.stop(), ...started.map((w) => w.stop())]);
    },
  };
}
