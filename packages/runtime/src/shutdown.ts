import { withDeadline } from '@imsync/async';
import type { Logger } from 'pino';

export interface ShutdownStep {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

export interface ShutdownOptions {
  logger: Logger;
  /** Hard limit for all steps together; past it the process exits with code 1. */
  deadlineMs: number;
  steps: readonly ShutdownStep[];
  /** Called once all steps ran (or the deadline passed); processes pass `process.exit`. */
  exit: (code: number) => void;
}

/**
 * Runs the shutdown steps in order, once, under a deadline. A failing step is logged and the next
 * still runs: a server that failed to close must not keep the Redis connection open.
 */
export type Shutdown = (reason: string, exitCode?: number) => Promise<void>;

export function createShutdown(options: ShutdownOptions): Shutdown {
  let running: Promise<void> | undefined;
  return (reason, exitCode = 0) => {
    running ??= (async () => {
      const { logger } = options;
      logger.info({ reason }, 'shutting down');
      const timer = setTimeout(() => {
        logger.error({ deadlineMs: options.deadlineMs }, 'shutdown deadline passed; exiting');
        options.exit(1);
      }, options.deadlineMs);
      timer.unref();
      let failed = false;
      for (const step of options.steps) {
        const started = performance.now();
        try {
          await step.run();
          logger.info({ step: step.name, durationMs: Math.round(performance.now() - started) }, 'shutdown step done');
        } catch (error) {
          failed = true;
          logger.error({ step: step.name, err: error }, 'shutdown step failed');
        }
      }
      clearTimeout(timer);
      // Logs are written asynchronously: exiting before they are flushed would lose the last lines.
      // A closed stdout (the reader went away) never completes a flush, so it gets a second at most,
      // and the process exits either way.
      const flushed = new Promise<void>((resolve) => logger.flush(() => resolve()));
      await withDeadline(flushed, 1000, 'log flush took over 1000 ms').catch(() => {});
      options.exit(failed ? 1 : exitCode);
    })();
    return running;
  };
}

/** Wires SIGTERM/SIGINT to a shutdown function, and crashes loudly (exit 1) on unhandled errors. */
export function onSignals(shutdown: Shutdown, logger: Logger): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void shutdown(signal));
  }
  process.on('unhandledRejection', (error) => {
    logger.fatal({ err: error }, 'unhandled rejection');
    void shutdown('unhandledRejection', 1);
  });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    void shutdown('uncaughtException', 1);
  });
}
