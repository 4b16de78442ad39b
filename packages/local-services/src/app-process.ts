import type { ChildProcess } from 'node:child_process';
import { APPS, type AppName, appCommand } from './apps.js';
import { exited, spawnOwned } from './child.js';
import { LineBuffer, rememberProcessLog } from './process-log.js';

export interface AppProcessOptions {
  /** Run the built app deployed in this directory (`scripts/deploy-app.sh`), as its image does. */
  deployedAt?: string;
  /** Sees every line the process writes (stdout and stderr), as written. */
  onOutput?: (line: string) => void;
  /** Stop keeping log lines once the process is ready (benchmarks: thousands of lines a second). */
  discardAfterReady?: boolean;
  /** Extra node flags, e.g. --cpu-prof (which NODE_OPTIONS does not take). */
  nodeArgs?: readonly string[];
  /** How long to wait for the ready line before the process is stopped and the start fails (ms). */
  readyTimeoutMs?: number;
}

export interface AppProcess {
  readonly child: ChildProcess;
  /** Every JSON log line the process wrote so far. */
  readonly lines: Record<string, unknown>[];
  /** Resolves with the first log line `match` accepts, past or future. */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends the signal and resolves with the exit code (or signal) once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

/**
 * Runs a real imsync process (`receiver` or `worker`) from its TypeScript sources, as
 * `pnpm start:*` does (or its built output, as the image does), and resolves once it logged that
 * it is ready.
 */
export async function startAppProcess(
  app: AppName,
  env: Record<string, string>,
  options: AppProcessOptions = {},
): Promise<AppProcess> {
  const { command, args, cwd } = appCommand(app, options.deployedAt, options.nodeArgs);
  const child = spawnOwned(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const recent = new LineBuffer();
  rememberProcessLog({
    name: app,
    pid: child.pid,
    startedAt: Date.now(),
    lines: () => recent.lines(),
    running: () => child.exitCode === null && child.signalCode === null,
  });
  let discarding = false;
  const waiters = new Set<(line: Record<string, unknown>) => void>();
  let stderr = '';
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      options.onOutput?.(part);
      recent.push(part);
      if (discarding) {
        continue;
      }
      try {
        const line = JSON.parse(part) as Record<string, unknown>;
        lines.push(line);
        for (const waiter of waiters) {
          waiter(line);
        }
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr = (stderr + text).slice(-4000);
    for (const line of text.split('\n').filter(Boolean)) {
      options.onOutput?.(line);
      recent.push(line);
    }
  });

  const waitForLine: AppProcess['waitForLine'] = (match, timeoutMs = 30_000) => {
    const seen = lines.find(match);
    if (seen) {
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${app} did not log the expected line within ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      const onExit = () => {
        cleanup();
        reject(
          new Error(
            `${app} exited (${child.exitCode ?? child.signalCode}) before the expected line; stderr: ${stderr}`,
          ),
        );
      };
      const waiter = (line: Record<string, unknown>) => {
        if (match(line)) {
          cleanup();
          resolve(line);
        }
      };
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
        child.off('exit', onExit);
      };
      waiters.add(waiter);
      child.once('exit', onExit);
    });
  };

  try {
    await waitForLine((line) => line.msg === APPS[app].ready, options.readyTimeoutMs);
  } catch (error) {
    // Nobody gets a handle on a process that never became ready: stop it here, or it would live
    // on until the test file ends (a worker of a failed attempt taking the retry's jobs).
    child.kill('SIGKILL');
    await exited(child);
    throw error;
  }
  discarding = options.discardAfterReady ?? false;
  return {
    child,
    lines,
    waitForLine,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
      return exited(child);
    },
  };
}
