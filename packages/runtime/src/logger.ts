import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  name: string;
  level: string;
  /** Tests pass a stream to capture lines; processes log to stdout. */
  destination?: NodeJS.WritableStream;
}

/** JSON lines on stdout, one logger per process; children carry request or job ids. */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ sync: false });
  return pino(
    {
      name: options.name,
      level: options.level,
      base: { pid: process.pid },
      // Epoch milliseconds: cheapest on the hot path; pino-pretty and log shippers render them.
      timestamp: pino.stdTimeFunctions.epochTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
