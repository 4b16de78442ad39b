import { fileURLToPath } from 'node:url';

/** The repository this package sits in (local services run apps from its sources). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Each imsync process: where it lives, its entry points, the log line that says it is ready, and
 * the node flags its image runs it with (the Dockerfile's CMD; a test holds the two equal).
 */
export const APPS = {
  receiver: {
    dir: 'apps/receiver',
    main: 'src/server.ts',
    built: 'dist/server.js',
    ready: 'receiver listening',
    // A young generation of 32 MiB instead of V8's 16: each callback's garbage dies young, and
    // fewer scavenges cost less CPU per callback with less resident memory (BENCHMARKS.md, GC).
    nodeFlags: ['--max-semi-space-size=32', '--enable-source-maps'],
  },
  worker: {
    dir: 'apps/worker',
    main: 'src/main.ts',
    built: 'dist/main.js',
    ready: 'worker started',
    // V8's default young generation: a larger one saved the worker no CPU and cost memory.
    nodeFlags: ['--enable-source-maps'],
  },
  dashboard: {
    dir: 'apps/dashboard',
    main: 'src/server.ts',
    built: 'dist/server.js',
    ready: 'dashboard listening',
    nodeFlags: ['--enable-source-maps'],
  },
} as const;

export type AppName = keyof typeof APPS;

export interface AppCommand {
  command: string;
  args: string[];
  cwd: string;
}

/**
 * How to run an app: from its TypeScript sources as `pnpm start:*` does, or, given the directory
 * `scripts/deploy-app.sh` wrote, from its built output as the image does.
 */
export function appCommand(app: AppName, deployedAt?: string, nodeArgs: readonly string[] = []): AppCommand {
  const entry = APPS[app];
  return deployedAt
    ? { command: process.execPath, args: [...entry.nodeFlags, ...nodeArgs, entry.built], cwd: deployedAt }
    : {
        command: process.execPath,
        args: [...nodeArgs, '--import', 'tsx', entry.main],
        cwd: `${repoRoot}${entry.dir}`,
      };
}
