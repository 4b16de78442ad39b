import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@imsync/local-services';
import { build } from 'esbuild';
import { thirdPartyExternal } from '../../scripts/third-party-external.js';
import { run } from './util.js';

/**
 * Everything is measured as it runs in production: the apps built and deployed the way their
 * images are (`pnpm build`, `scripts/deploy-app.sh`), the baselines bundled too, all started with
 * plain `node`, with no TypeScript loader in the process.
 */
export interface Built {
  receiver: string;
  worker: string;
  /** bench/dist: the baseline scripts, next to bench/node_modules. */
  scripts: string;
}

export async function buildForBench(): Promise<Built> {
  await run('pnpm', ['build'], { cwd: repoRoot });
  const out = await mkdtemp(join(tmpdir(), 'imsync-bench-'));
  const deploy = async (app: string) => {
    await run('sh', ['scripts/deploy-app.sh', app, join(out, app)], { cwd: repoRoot });
    return join(out, app);
  };
  const scripts = join(repoRoot, 'bench', 'dist');
  await build({
    entryPoints: ['baseline-server.ts', 'floor-server.ts', 'noop-worker.ts'].map((file) =>
      join(repoRoot, 'bench', file),
    ),
    outdir: scripts,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    plugins: [thirdPartyExternal],
    logLevel: 'warning',
  });
  return { receiver: await deploy('receiver'), worker: await deploy('worker'), scripts };
}
