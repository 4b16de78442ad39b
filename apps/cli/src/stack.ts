import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type AppProcess,
  type PostgresService,
  repoRoot,
  startAppProcess,
  startLocalPostgres,
  startLocalRedis,
} from '@imsync/local-services';
import { startFakeTencent } from '@imsync/tencent';
import pg from 'pg';
import { prettyFactory } from 'pino-pretty';
import { defaultCallbackUrl, LOCAL_DEFAULTS } from './defaults.js';
import { UsageError } from './send.js';

const HELP = `imsync stack (pnpm start): the whole pipeline on this machine, in one command

  --workers N      worker processes (default 2)
  --fake-tencent   also run a fake of Tencent's REST API on 127.0.0.1:$FAKE_TENCENT_PORT (default ${LOCAL_DEFAULTS.fakeTencentPort})
                   and point the workers' gap detection and backfill at it, with a short grace period
                   (GAP_GRACE_SECONDS 5 unless set): try pnpm imsync send --drop 0.05 --verify

The dashboard listens on $DASHBOARD_PORT (default ${LOCAL_DEFAULTS.dashboardPort}), login $DASHBOARD_USER / $DASHBOARD_PASSWORD
(demo values by default).

Uses $REDIS_URL and $DATABASE_URL when set; otherwise starts private redis-server and postgres
processes from PATH, with their data under .data/ ($IMSYNC_DATA_DIR). The receiver listens on
$PORT (default ${LOCAL_DEFAULTS.port}) with $TIM_SDK_APP_ID / $TIM_CALLBACK_TOKEN (demo values by default).
Ctrl-C stops everything.
`;

const COLORS = [36, 35, 33, 32, 34, 91, 92, 93];

export async function stack(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      workers: { type: 'string', default: '2' },
      'fake-tencent': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new UsageError(`--workers must be a whole number from 1 to 64 (got ${values.workers})`);
  }
  const env = process.env;
  const dataDir = env.IMSYNC_DATA_DIR ?? join(repoRoot, '.data');
  const say = (text: string) => process.stdout.write(`${text}\n`);
  const services: { dispose(): Promise<void> }[] = [];
  const apps: AppProcess[] = [];
  let stopping = false;

  const stopAll = async (code: number) => {
    if (stopping) {
      return;
    }
    stopping = true;
    say('\nstopping: apps first, then Redis and PostgreSQL ...');
    await Promise.all(apps.map((app) => app.stop('SIGTERM')));
    await Promise.all(services.map((service) => service.dispose()));
    say('stopped.');
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  try {
    let redisUrl = env.REDIS_URL;
    if (!redisUrl) {
      requireBinary('redis-server', 'install Redis 7 (Debian: apt-get install redis-server) or set REDIS_URL');
      const redis = await startLocalRedis({ dataDir: join(dataDir, 'redis') });
      services.push(redis);
      redisUrl = redis.url;
    }
    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      requireBinary('initdb', 'install PostgreSQL (Debian: apt-get install postgresql) or set DATABASE_URL', [
        'pg_config',
      ]);
      const postgres = await startLocalPostgres({ dataDir: join(dataDir, 'postgres') });
      services.push(postgres);
      databaseUrl = await ensureDatabase(postgres, 'imsync');
    }

    const common = {
      REDIS_URL: redisUrl,
      LOG_LEVEL: env.LOG_LEVEL ?? 'info',
      ...(env.QUEUE_PREFIX && { QUEUE_PREFIX: env.QUEUE_PREFIX }),
    };
    const sdkAppId = env.TIM_SDK_APP_ID ?? LOCAL_DEFAULTS.sdkAppId;
    const token = env.TIM_CALLBACK_TOKEN ?? LOCAL_DEFAULTS.token;
    const port = env.PORT ?? String(LOCAL_DEFAULTS.port);
    const onExit = (name: string) => (app: AppProcess) => {
      app.child.once('exit', (code, signal) => {
        if (!stopping) {
          say(`\n${name} exited unexpectedly (${code ?? signal}); stopping the stack`);
          void stopAll(1);
        }
      });
      return app;
    };

    const tencent = values['fake-tencent'] ? await startTencent(sdkAppId, env) : undefined;
    if (tencent) {
      services.push({ dispose: () => tencent.fake.close() });
    }

    const receiver = await startAppProcess(
      'receiver',
      {
        ...common,
        TIM_SDK_APP_ID: sdkAppId,
        TIM_CALLBACK_TOKEN: token,
        PORT: port,
        HOST: env.HOST ?? '127.0.0.1',
        // Any free port, as for the workers: 9090 is often taken by Prometheus itself.
        METRICS_PORT: '0',
      },
      { onOutput: printer('receiver', 0), discardAfterReady: true },
    );
    apps.push(onExit('receiver')(receiver));
    const receiverOpsPort = (await receiver.waitForLine((line) => line.msg === 'receiver listening')).opsPort;
    const workerPorts: unknown[] = [];
    for (let i = 1; i <= workers; i++) {
      const worker = await startAppProcess(
        'worker',
        {
          ...common,
          TIM_SDK_APP_ID: sdkAppId,
          DATABASE_URL: databaseUrl,
          METRICS_PORT: '0',
          ...(tencent?.workerEnv ?? gapEnv(env)),
        },
        { onOutput: printer(`worker-${i}`, i), discardAfterReady: true },
      );
      apps.push(onExit(`worker-${i}`)(worker));
      workerPorts.push((await worker.waitForLine((line) => line.msg === 'worker started')).port);
    }

    const dashboardPort = env.DASHBOARD_PORT ?? String(LOCAL_DEFAULTS.dashboardPort);
    const dashboardUser = env.DASHBOARD_USER ?? LOCAL_DEFAULTS.dashboardUser;
    const dashboardPassword = env.DASHBOARD_PASSWORD ?? LOCAL_DEFAULTS.dashboardPassword;
    apps.push(
      onExit('dashboard')(
        await startAppProcess(
          'dashboard',
          {
            ...common,
            PORT: dashboardPort,
            HOST: env.HOST ?? '127.0.0.1',
            DASHBOARD_USER: dashboardUser,
            DASHBOARD_PASSWORD: dashboardPassword,
          },
          { onOutput: printer('dashboard', workers + 1), discardAfterReady: true },
        ),
      ),
    );

    const callbackUrl = defaultCallbackUrl({ ...env, PORT: port });
    const receiverOps = `http://127.0.0.1:${receiverOpsPort}`;
    say(`
imsync is running
  callback URL  ${callbackUrl}
                SdkAppid ${sdkAppId}, token ${token}${token === LOCAL_DEFAULTS.token ? ' (demo values)' : ''}
  receiver      ${receiverOps}/readyz  ${receiverOps}/metrics
  workers       ${workers}: ${workerPorts.map((p) => `http://127.0.0.1:${p}/metrics`).join('  ')}
  dashboard     http://127.0.0.1:${dashboardPort}/queues  (user ${dashboardUser}, password ${dashboardPassword}${dashboardPassword === LOCAL_DEFAULTS.dashboardPassword ? ', demo values' : ''})
  Redis         ${redisUrl}${env.REDIS_URL ? '' : `  (data in ${join(dataDir, 'redis')})`}
  PostgreSQL    ${databaseUrl}${env.DATABASE_URL ? '' : `  (data in ${join(dataDir, 'postgres')})`}${
    tencent
      ? `
  fake Tencent  ${tencent.fake.url}  (history of app ${sdkAppId}; lose callbacks on purpose: pnpm imsync send --drop 0.05 --verify)`
      : ''
  }

Send callbacks:      pnpm imsync send --count 200
See stored messages: psql ${databaseUrl} -c 'SELECT group_id, msg_seq, from_account FROM group_messages ORDER BY id DESC LIMIT 10'
Ctrl-C stops everything.
`);
  } catch (error) {
    say(`\ncould not start the stack: ${(error as Error).message}`);
    await stopAll(1);
  }
  // Runs until a signal or an app's exit calls stopAll.
  return new Promise<number>(() => {});
}

/** The variables of gap detection and backfill passed on from this shell, when set. */
function gapEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        /^(GAP_|BACKFILL_|TIM_API_BASE_URL$|TIM_SECRET_KEY$|TIM_ADMIN_IDENTIFIER$)/.test(entry[0]) &&
        entry[1] !== undefined &&
        entry[1] !== '',
    ),
  );
}

/** The fake Tencent API for the served app, and the workers' variables that point at it. */
async function startTencent(sdkAppId: string, env: NodeJS.ProcessEnv) {
  const secretKey = env.TIM_SECRET_KEY || LOCAL_DEFAULTS.fakeTencentSecretKey;
  const port = Number(env.FAKE_TENCENT_PORT ?? LOCAL_DEFAULTS.fakeTencentPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`FAKE_TENCENT_PORT must be a port number (got ${env.FAKE_TENCENT_PORT})`);
  }
  const fake = await startFakeTencent({ apps: { [sdkAppId]: secretKey }, port }).catch((error: unknown) => {
    throw (error as { code?: string }).code === 'EADDRINUSE'
      ? new UsageError(`port ${port} is taken: set FAKE_TENCENT_PORT to a free one`)
      : error;
  });
  const workerEnv: Record<string, string> = {
    GAP_GRACE_SECONDS: '5',
    GAP_SCAN_INTERVAL_MS: '1000',
    GAP_TAIL_CHECK_SECONDS: '5',
    ...gapEnv(env),
    TIM_API_BASE_URL: fake.url,
    TIM_SECRET_KEY: secretKey,
  };
  return { fake, workerEnv };
}

function requireBinary(name: string, hint: string, alternatives: string[] = []): void {
  const onPath = (binary: string) =>
    (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, binary)));
  if (!onPath(name) && !alternatives.some(onPath)) {
    throw new UsageError(`${name} not found on PATH: ${hint}`);
  }
}

async function ensureDatabase(postgres: PostgresService, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: postgres.url() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE ${name}`);
    }
  } finally {
    await client.end();
  }
  return postgres.url(name);
}

/** Prints a process's JSON log lines readably, each behind the process's name in its own colour. */
function printer(name: string, index: number): (line: string) => void {
  const pretty = prettyFactory({
    colorize: process.stdout.isTTY,
    ignore: 'pid,hostname,name',
    translateTime: 'HH:MM:ss.l',
    singleLine: true,
  });
  const color = COLORS[index % COLORS.length];
  const prefix = process.stdout.isTTY ? `\u001b[${color}m${name.padEnd(9)}\u001b[0m│ ` : `${name.padEnd(9)}│ `;
  return (line) => {
    let text = line;
    if (line.startsWith('{')) {
      try {
        text = pretty(JSON.parse(line)).trimEnd();
      } catch {
        // not JSON after all: print as is
      }
    }
    process.stdout.write(`${prefix}${text}\n`);
  };
}
