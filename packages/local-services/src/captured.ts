import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { spawnOwned } from './child.js';

export interface CapturedProcess {
  readonly child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr interleaved as they arrived. */
  output(): string;
  /** Resolves with the exit code (or signal) once its output is complete too. */
  closed(): Promise<number | NodeJS.Signals | null>;
  /** Signals its whole process group (pnpm, tsx and node alike) and waits until it closed. */
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

/**
 * Runs a command as a user would from a terminal (`pnpm start:worker`, say) and keeps what it
 * prints, for tests of what a process says when it starts or refuses to.
 */
export function spawnCaptured(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): CapturedProcess {
  const child = spawnOwned(command, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // 'close' comes after the last output; 'exit' may come before it.
  const closed = once(child, 'close').then(([code, signal]) => (code ?? signal) as number | NodeJS.Signals | null);
  return {
    child,
    output: () => output,
    closed: () => closed,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(-child.pid, signal);
      }
      return closed;
    },
  };
}
