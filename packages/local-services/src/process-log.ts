import { readFileSync } from 'node:fs';

/**
 * What a process we started said most recently, kept so a failing test can show it: a test that
 * fails against a real receiver, worker, Redis or PostgreSQL is read from their logs.
 */
export interface ProcessLog {
  readonly name: string;
  readonly pid: number | undefined;
  readonly startedAt: number;
  /** The last lines it wrote (stdout and stderr, as written). */
  lines(): readonly string[];
  /** Whether it still runs (a server stopped by its test reads false until started again). */
  running(): boolean;
}

const logs = new Set<ProcessLog>();

/** Every process started by this test process that is still remembered, oldest first. */
export function processLogs(): ProcessLog[] {
  return [...logs];
}

/** Remembers a process's log; the oldest are forgotten past a bound, so a long file stays small. */
export function rememberProcessLog(log: ProcessLog): void {
  logs.add(log);
  if (logs.size > 50) {
    const [oldest] = logs;
    if (oldest) {
      logs.delete(oldest);
    }
  }
}

/** The last `max` lines written into it. */
export class LineBuffer {
  private readonly kept: string[] = [];
  constructor(private readonly max = 400) {}

  push(line: string): void {
    this.kept.push(line);
    if (this.kept.length > this.max) {
      this.kept.splice(0, this.kept.length - this.max);
    }
  }

  lines(): readonly string[] {
    return this.kept;
  }
}

/** The last lines of a log file a server writes itself (redis-server's), or none if unreadable. */
export function tailOfFile(path: string, max = 200): readonly string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-max);
  } catch {
    return [];
  }
}
