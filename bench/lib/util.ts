import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { exited, spawnOwned } from '@imsync/local-services';

export const run = promisify(execFile);

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** "median (min–max)" with the given number of decimals. */
export function spread(values: readonly number[], decimals = 0): string {
  const f = (n: number) => n.toFixed(decimals);
  return `${f(median(values))} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const MIB = 1024 * 1024;

/** A bundled bench script (bench/dist/*.js) in its own process, resolved once it printed `ready`. */
export async function startScript(
  scripts: string,
  script: string,
  env: Record<string, string>,
  ready: string,
  nodeArgs: readonly string[] = [],
) {
  const child = spawnOwned(process.execPath, [...nodeArgs, script], {
    cwd: scripts,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(ready)) {
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready: ${out}`)));
  });
  return {
    pid: child.pid ?? 0,
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

export interface WrkResult {
  requests: number;
  seconds: number;
  perSecond: number;
  non2xx: number;
  socketErrors: number;
  latency: string;
}

/** Runs wrk (one thread, `connections` connections) in its own process and parses its report. */
export async function wrk(
  url: string,
  seconds: number,
  connections: number,
  env: Record<string, string>,
): Promise<WrkResult> {
  const script = new URL('../post.lua', import.meta.url).pathname;
  const { stdout } = await run('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, url], {
    env: { ...process.env, ...env },
  });
  const number = (pattern: RegExp) => Number(stdout.match(pattern)?.[1] ?? 0);
  const errors = stdout.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    requests: number(/(\d+) requests in/),
    seconds: number(/requests in ([\d.]+)s/),
    perSecond: number(/Requests\/sec:\s+([\d.]+)/),
    non2xx: number(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    latency: stdout.match(/Latency\s+(\S+)/)?.[1] ?? '',
  };
}
