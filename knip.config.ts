import { readdirSync, readFileSync } from 'node:fs';
import type { KnipConfiguration } from 'knip';

// `pnpm knip` (part of `pnpm test`): files, exports and dependencies nobody uses.

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  imsync?: { entries?: string[] };
}

const root = new URL('./', import.meta.url);
const manifest = (dir: string): Manifest => JSON.parse(readFileSync(new URL(`${dir}/package.json`, root), 'utf8'));
const dirs = (parent: string) => readdirSync(new URL(parent, root)).map((name) => `${parent}/${name}`);
const workspacePackages = new Map(dirs('packages').map((dir) => [manifest(dir).name, manifest(dir)]));

/**
 * The third-party packages that the workspace packages an app depends on (and theirs) depend on.
 * `pnpm build` compiles workspace code into the app's bundle and leaves these as imports, so the
 * app lists them as its own dependencies even where its own files never import them.
 */
function bundledThirdParty(app: Manifest): Set<string> {
  const found = new Set<string>();
  const seen = new Set<string>();
  const visit = (dependencies: Record<string, string> = {}) => {
    for (const name of Object.keys(dependencies)) {
      const workspace = workspacePackages.get(name);
      if (!workspace) {
        found.add(name);
      } else if (!seen.has(name)) {
        seen.add(name);
        visit(workspace.dependencies);
      }
    }
  };
  visit(app.dependencies);
  return found;
}

const tests = ['**/*.test.ts'];
const workspaces: NonNullable<KnipConfiguration['workspaces']> = {
  '.': { entry: ['scripts/*.ts'], project: ['*.ts', 'scripts/**/*.ts'] },
  // A package's index is its whole public surface, and only this repository uses it.
  'packages/*': { entry: tests, project: ['src/**/*.ts', 'test/**/*.ts'], includeEntryExports: true },
  e2e: { entry: ['reliability/report.ts', ...tests], project: ['**/*.ts'] },
  bench: {
    // run.ts bundles these three with esbuild (bench/lib/build.ts) to start them as plain node.
    entry: ['run.ts', 'baseline-server.ts', 'floor-server.ts', 'noop-worker.ts', ...tests],
    project: ['**/*.ts'],
  },
};
for (const dir of dirs('apps')) {
  const app = manifest(dir);
  // The CLI is not bundled: it runs from source (`pnpm imsync`).
  const entries = app.imsync?.entries ?? ['src/main.ts'];
  const bundled = app.imsync?.entries ? bundledThirdParty(app) : new Set<string>();
  const unlisted = [...bundled].filter((name) => !(name in (app.dependencies ?? {})));
  if (unlisted.length > 0) {
    // The deployed app resolves its bundle's imports from its own production dependencies.
    throw new Error(`${dir}/package.json: its bundle imports ${unlisted.join(', ')}; list them in "dependencies"`);
  }
  workspaces[dir] = {
    // What scripts/build-apps.ts bundles.
    entry: [...entries, ...tests],
    project: ['src/**/*.ts', 'test/**/*.ts'],
    ignoreDependencies: [...bundled],
  };
}

const config: KnipConfiguration = {
  workspaces,
  // A type used where it is declared (say, the options of an exported function) may stay exported.
  ignoreExportsUsedInFile: { interface: true, type: true },
  // Called as system commands, not installed from npm.
  ignoreBinaries: ['docker-compose', 'pg_config', 'prometheus', 'promtool'],
};

export default config;
