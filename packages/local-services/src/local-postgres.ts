import { type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { spawnOwned } from './child.js';
import { LineBuffer, rememberProcessLog } from './process-log.js';
import { startServerProcess } from './server-process.js';
import { createUniqueDatabase, type PostgresService } from './services.js';

interface Binaries {
  initdb: string;
  postgres: string;
}

function findBinaries(): Binaries {
  const fromPath = (name: string) => {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  let initdb = fromPath('initdb');
  let postgres = fromPath('postgres');
  if (!initdb || !postgres) {
    // Debian keeps the server binaries off PATH; pg_config knows where.
    const bindir = fromPath('pg_config') ? execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim() : '';
    initdb ||= bindir && join(bindir, 'initdb');
    postgres ||= bindir && join(bindir, 'postgres');
  }
  if (!initdb || !postgres) {
    throw new Error('PostgreSQL binaries not found: install postgresql (initdb and postgres on PATH or pg_config)');
  }
  return { initdb, postgres };
}

/** initdb refuses to run as root; as root the server runs as the `postgres` user instead. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) {
    return undefined;
  }
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export interface LocalPostgresOptions {
  /**
   * Where the cluster lives and survives restarts (created on first use). Without it, a temporary
   * dir removed by dispose(), and fsync off: test data need not survive a power cut.
   */
  dataDir?: string;
}

/** Starts a private PostgreSQL from the local binaries on a free port (user `postgres`, trust auth). */
export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<PostgresService> {
  const binaries = findBinaries();
  const user = serverUser();
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'imsync-pg-'));
  const data = join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  if (user) {
    assertTraversable(dir);
    chownSync(dir, user.uid, user.gid);
  }
  chmodSync(dir, 0o700);
  if (!existsSync(join(data, 'PG_VERSION'))) {
    execFileSync(
      binaries.initdb,
      ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
      { stdio: 'pipe', ...user },
    );
  }
  const durability = options.dataDir ? [] : ['-c', 'fsync=off', '-c', 'full_page_writes=off'];

  let port = 0;
  const log = new LineBuffer();
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const server = await startServerProcess('postgres', async (candidate) => {
    port = candidate;
    const child = spawnOwned(
      binaries.postgres,
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        ...durability,
        '-c',
        'max_connections=200',
      ],
      { ...user },
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        log.push(line);
      }
    });
    await waitForServer(url(), child);
    return child;
  });
  rememberProcessLog({
    name: 'postgres',
    pid: server.pid(),
    startedAt: Date.now(),
    lines: () => log.lines(),
    running: () => server.running(),
  });
  // SIGINT: fast shutdown. SIGQUIT: immediate shutdown, crash recovery on the next start.
  // (SIGKILL would orphan the backends and block the restart on their shared memory.)
  const stop = (mode: 'graceful' | 'crash' = 'graceful') => server.kill(mode === 'crash' ? 'SIGQUIT' : 'SIGINT');

  return {
    host: '127.0.0.1',
    port,
    url,
    createDatabase: async () => url(await createUniqueDatabase(url())),
    stop,
    start: () => server.start(),
    pid: () => server.pid(),
    async dispose() {
      await stop('graceful');
      if (!options.dataDir) {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

async function waitForServer(connectionString: string, child: ChildProcess): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited with ${child.exitCode ?? child.signalCode}: ${stderr}`);
    }
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  }
  child.kill('SIGQUIT');
  throw new Error(`postgres did not accept connections within 20 s: ${stderr}`);
}

/** As root the server runs as `postgres`, which must be able to walk down to its data dir. */
function assertTraversable(dir: string): void {
  for (let parent = dirname(resolve(dir)); parent !== dirname(parent); parent = dirname(parent)) {
    if ((statSync(parent).mode & 0o001) === 0) {
      throw new Error(
        `the postgres user cannot reach ${dir}: ${parent} is not searchable by others (chmod o+x ${parent}, or choose another data directory)`,
      );
    }
  }
}
