import { fileURLToPath } from 'node:url';

/** The repository this package sits in (local services run apps from its sources). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Each imsync process: where it lives, its entry points, and the log line that says it is ready. */
export const APPS = {
  receiver: { dir: 'apps/receiver', main: 'src/server.ts', built: 'dist/server.js', ready: 'receiver listening' },
  worker: { dir: 'apps/worker', main: 'src/main.ts', built: 'dist/main.js', ready: 'worker started' },
  dashboard: { dir: 'apps/dashboard', main: 'src/server.ts', built: 'dist/server.js', ready: 'dashboard listening' },
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
    ? { command: process.execPath, args: [...nodeArgs, '--enable-source-maps', entry.built], cwd: deployedAt }
    : {
        command: process.execPath,
        args: [...nodeArgs, '--import', 'tsx', entry.main],
        cwd: `${repoRoot}${entry.dir}`,
      };
}
