import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { thirdPartyExternal } from './third-party-external.js';

// `pnpm build`: bundles each app's entry points into apps/<app>/dist/*.js for the container image.
// Workspace packages (@imsync/*) are compiled in from their TypeScript sources; every other package
// stays an import, resolved at run time from the node_modules that `pnpm deploy --prod` installs
// (the app's dependencies and theirs), so no list of packages is kept by hand.

interface AppManifest {
  name: string;
  imsync?: { entries?: string[] };
}

const apps = process.argv.slice(2);
if (apps.length === 0) {
  throw new Error('usage: build-apps <app dir>...');
}

for (const dir of apps) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as AppManifest;
  const entries = manifest.imsync?.entries ?? [];
  const startedAt = performance.now();
  await build({
    entryPoints: entries.map((entry) => join(dir, entry)),
    outdir: join(dir, 'dist'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: true,
    plugins: [thirdPartyExternal],
    logLevel: 'warning',
  });
  const ms = Math.round(performance.now() - startedAt);
  process.stdout.write(`built ${manifest.name}: ${entries.join(', ')} → ${dir}/dist (${ms} ms)\n`);
}
