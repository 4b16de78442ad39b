import { type ChildProcess, spawn } from 'node:child_process';

const children = new Set<ChildProcess>();
let hooked = false;

/**
 * Spawns a helper process (a server, an app) that dies with this process, even when this one
 * crashes. It gets a process group of its own, so a Ctrl-C in the terminal reaches only us and we
 * stop our children in the right order (apps before the Redis and PostgreSQL they still need).
 */
export function spawnOwned(
  command: string,
  args: readonly string[],
  options: Parameters<typeof spawn>[2] = {},
): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
  // Keep pipes flowing: an unread pipe that fills up would block the child.
  child.stdout?.resume();
  child.stderr?.resume();
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const c of children) {
        c.kill('SIGKILL');
      }
    });
  }
  return child;
}

/** Resolves with the exit code (or signal) once the process has exited. */
export function exited(child: ChildProcess): Promise<number | NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode ?? child.signalCode);
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}
