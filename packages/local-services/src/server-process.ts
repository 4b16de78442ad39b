import type { ChildProcess } from 'node:child_process';
import { exited } from './child.js';
import { freePort } from './ports.js';

/** A server we run as a child process on a port of its own, and can stop and start again there. */
export interface ServerProcess {
  readonly port: number;
  /** Launches it again on the same port (after `kill`). */
  start(): Promise<void>;
  /**
   * Sends the signal, if it still runs, and waits for it to exit; with `repeatEveryMs`, sends it
   * again each time that passes (for a server that may refuse a shutdown and not try again).
   */
  kill(signal: NodeJS.Signals, options?: { repeatEveryMs?: number }): Promise<void>;
  pid(): number | undefined;
  running(): boolean;
}

/**
 * Runs `launch(port)` (which spawns the server and resolves once it answers) on a free port,
 * trying another port when the first was taken between the probe and the bind.
 */
export async function startServerProcess(
  what: string,
  launch: (port: number) => Promise<ChildProcess>,
): Promise<ServerProcess> {
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    try {
      child = await launch(port);
    } catch (error) {
      if (attempt >= 4) {
        throw new Error(`${what} did not start: ${(error as Error).message}`);
      }
    }
  }
  return {
    port,
    pid: () => child?.pid,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    async start() {
      child = await launch(port);
    },
    async kill(signal, options = {}) {
      const running = child;
      if (running && running.exitCode === null && running.signalCode === null) {
        running.kill(signal);
        const repeat = options.repeatEveryMs
          ? setInterval(() => running.kill(signal), options.repeatEveryMs)
          : undefined;
        try {
          await exited(running);
        } finally {
          clearInterval(repeat);
        }
      }
    },
  };
}
