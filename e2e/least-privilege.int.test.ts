import { createConnection } from 'node:net';
import { join } from 'node:path';
import { loadFixture } from '@imsync/fixtures';
import { startLocalRedis } from '@imsync/local-services';
import { createPool } from '@imsync/sinks';
import { repoRoot, spawnCaptured, startAppProcess, waitFor } from '@imsync/testing';
import { test } from '@imsync/testing/vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect } from 'vitest';
import { signed, startReceiver } from './stack.js';

// Compose's least-privilege setup, run for real: Redis started by compose's own script with its
// ACL, and PostgreSQL with the migrations run as the owner and the workers on a role of their own.

const REDIS_PASSWORD = 'least-privilege-redis-password';
const WRITER_PASSWORD = 'least-privilege-writer-password';

function startAclRedis() {
  return startLocalRedis({
    launcher: {
      script: join(repoRoot, 'deploy/redis/start-redis.sh'),
      env: { REDIS_PASSWORD, QUEUE_PREFIX: 'imsync' },
    },
    auth: { user: 'imsync', password: REDIS_PASSWORD },
  });
}

/** `pnpm migrate` as compose's migrate service runs it, as the owner; resolves with its output. */
async function runMigrate(env: Record<string, string>): Promise<{ code: unknown; output: string }> {
  const run = spawnCaptured(process.execPath, ['--import', 'tsx', 'src/migrate.ts'], {
    cwd: join(repoRoot, 'apps/worker'),
    env,
  });
  return { code: await run.closed(), output: run.output() };
}

/** Redis's first reply line to one inline command on a fresh, unauthenticated connection. */
function rawReply(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write(`${command}\r\n`));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().split('\r\n')[0] ?? '');
    });
    socket.once('error', reject);
  });
}

/** The same database URL, as another role (the local server trusts; the role decides the rights). */
const asRole = (url: string, role: string) =>
  url.replace('postgres://postgres@', `postgres://${role}:${WRITER_PASSWORD}@`);

describe('least privilege', () => {
  test.for([1, 3])(
    'the whole pipeline runs on the ACL user and the writer role, which can do nothing else (QUEUE_SHARDS=%i)',
    async (shards, { databaseUrl }) => {
      const redis = await startAclRedis();
      const role = `imsync_writer_${process.pid}`;
      try {
        const migrated = await runMigrate({
          DATABASE_URL: databaseUrl,
          ARCHIVE_WRITER_ROLE: role,
          ARCHIVE_WRITER_PASSWORD: WRITER_PASSWORD,
        });
        expect(migrated.code, migrated.output).toBe(0);
        expect(migrated.output).not.toContain(WRITER_PASSWORD);

        const { receiver, callbackUrl } = await startReceiver({ REDIS_URL: redis.url, QUEUE_SHARDS: String(shards) });
        const worker = await startAppProcess('worker', {
          REDIS_URL: redis.url,
          QUEUE_SHARDS: String(shards),
          DATABASE_URL: asRole(databaseUrl, role),
          TIM_SDK_APP_ID: '1600012345',
          METRICS_PORT: '0',
        });
        try {
          const base = JSON.parse(loadFixture('text-public').text) as Record<string, unknown>;
          for (let seq = 1; seq <= 5; seq++) {
            const reply = await fetch(signed(callbackUrl), {
              method: 'POST',
              body: JSON.stringify({ ...base, MsgSeq: seq }),
            });
            expect(reply.status).toBe(200);
          }
          const owner = createPool({ connectionString: databaseUrl, max: 1, onIdleError: () => {} });
          try {
            await waitFor(
              async () => (await owner.query('SELECT count(*)::int AS n FROM group_messages')).rows[0]?.n === 5,
              { what: 'five messages stored by the writer role' },
            );
          } finally {
            await owner.end();
          }
        } finally {
          await Promise.all([receiver.stop(), worker.stop()]);
        }

        // The writer reads and adds rows, and that is all.
        const writer = new pg.Client({ connectionString: asRole(databaseUrl, role) });
        await writer.connect();
        try {
          for (const sql of [
            'DELETE FROM group_messages',
            'TRUNCATE group_messages',
            'UPDATE group_messages SET msg_id = NULL',
            'DROP TABLE group_messages',
            'CREATE TABLE stolen (x int)',
            'ALTER TABLE group_messages ADD COLUMN x int',
            // The partitions too: no reading around the parent's grants, no detaching or dropping a day.
            'SELECT * FROM group_messages_default',
            'DELETE FROM group_messages_default',
            'DROP TABLE group_messages_default',
            'ALTER TABLE group_messages DETACH PARTITION group_messages_default',
          ]) {
            await expect(writer.query(sql), sql).rejects.toMatchObject({ code: '42501' });
          }
        } finally {
          await writer.end();
        }
      } finally {
        await redis.dispose();
      }
    },
  );

  test('Redis answers nothing without the password, and the app user only its own keys and safe commands', async () => {
    const redis = await startAclRedis();
    const app = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    try {
      expect(await rawReply(redis.port, 'GET imsync:x')).toMatch(/^-NOAUTH/);
      await expect(app.set('imsync:ok', '1')).resolves.toBe('OK');
      for (const command of [
        ['flushall'],
        ['config', 'get', 'requirepass'],
        ['keys', '*'],
        ['replicaof', 'no', 'one'],
        ['bgsave'],
        ['acl', 'list'],
        ['shutdown'],
        ['set', 'elsewhere:x', '1'],
        ['subscribe', 'imsync:x'],
      ] as const) {
        await expect(app.call(...(command as unknown as [string, ...string[]])), command.join(' ')).rejects.toThrow(
          /NOPERM/,
        );
      }
    } finally {
      app.disconnect();
      await redis.dispose();
    }
  });

  test('a worker on the writer role against a schema it may not migrate stops with one line saying what to run', async ({
    postgres,
  }) => {
    const databaseUrl = await postgres.createDatabase();
    const role = `imsync_fresh_${process.pid}`;
    const owner = new pg.Client({ connectionString: databaseUrl });
    await owner.connect();
    try {
      await owner.query(`CREATE ROLE ${role} LOGIN`);
      const worker = spawnCaptured(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: join(repoRoot, 'apps/worker'),
        env: {
          REDIS_URL: 'redis://127.0.0.1:1',
          DATABASE_URL: asRole(databaseUrl, role),
          TIM_SDK_APP_ID: '1600012345',
          METRICS_PORT: '0',
          LOG_LEVEL: 'silent',
        },
      });
      expect(await worker.closed()).toBe(1);
      expect(worker.output().trim().split('\n')).toEqual([
        expect.stringMatching(/^imsync-worker: DATABASE_URL: the archive schema is older .* run `pnpm migrate`/),
      ]);
    } finally {
      await owner.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
      await owner.end();
    }
  });
});
