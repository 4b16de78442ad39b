import { readdirSync, readFileSync } from 'node:fs';

// CPU time and memory of processes, read from /proc (Linux): what a message costs, not just how fast.

const TICKS_PER_SECOND = 100;

interface Stat {
  ppid: number;
  cpuSeconds: number;
  rssBytes: number;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ")".
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const rssPages = Number(fields[21]);
    return { ppid: Number(fields[1]), cpuSeconds: (utime + stime) / TICKS_PER_SECOND, rssBytes: rssPages * 4096 };
  } catch {
    return undefined;
  }
}

/** The processes whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .map(Number)
    .filter((child) => Number.isInteger(child) && stat(child)?.ppid === pid);
}

/** CPU seconds used so far by `pid`, and by its children too when `withChildren` (PostgreSQL's backends). */
export function cpuSeconds(pid: number, withChildren = false): number {
  const own = stat(pid)?.cpuSeconds ?? 0;
  return withChildren ? childrenOf(pid).reduce((total, child) => total + (stat(child)?.cpuSeconds ?? 0), own) : own;
}

function rssBytes(pid: number): number {
  return stat(pid)?.rssBytes ?? 0;
}

/** Samples the resident memory of `pid` every 200 ms; `stop()` returns the highest seen. */
export function watchRss(pid: number): { stop(): number } {
  let max = rssBytes(pid);
  const timer = setInterval(() => {
    max = Math.max(max, rssBytes(pid));
  }, 200);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, rssBytes(pid));
    },
  };
}
