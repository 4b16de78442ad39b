import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@imsync/runtime';

/** A real logger whose JSON lines are kept in memory, for tests that assert on what was logged. */
export function createCaptureLogger(name: string): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ name, level: 'info', destination }), lines };
}
