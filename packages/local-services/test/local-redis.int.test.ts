import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { startLocalRedis } from '../src/index.js';

const cli = (port: number, ...args: string[]) => promisify(execFile)('redis-cli', ['-p', String(port), ...args]);

test('a graceful stop that Redis refuses while it writes its first AOF is sent again until Redis exits', async ({
  onTestFinished,
}) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'imsync-redis-stop-'));
  onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
  const redis = await startLocalRedis({ dataDir });
  onTestFinished(() => redis.stop('crash'));
  // A first AOF being written, for about a second: AOF off and on again starts one, and the
  // delay per key keeps its child busy. (A replica writes one right after every full sync.)
  await cli(redis.port, 'EVAL', "for i = 1, 1000 do redis.call('SET', 'k' .. i, i) end", '0');
  await cli(redis.port, 'CONFIG', 'SET', 'rdb-key-save-delay', '1000');
  await cli(redis.port, 'CONFIG', 'SET', 'appendonly', 'no');
  await cli(redis.port, 'CONFIG', 'SET', 'appendonly', 'yes');

  const stopped = await Promise.race([
    redis.stop('graceful').then(() => 'stopped'),
    new Promise((resolve) => setTimeout(resolve, 20_000, 'still running after 20 s')),
  ]);
  expect(stopped).toBe('stopped');
  const log = await readFile(join(dataDir, 'redis.log'), 'utf8');
  // The first SIGTERM was refused: without the second, stop() would have waited forever.
  expect(log).toContain("Writing initial AOF, can't exit");
  expect(log).toContain('Redis is now ready to exit');
});
