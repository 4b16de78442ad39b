export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Named in the timeout error, so a failing test says what never happened. */
  what?: string;
}

/**
 * Polls `probe` until it returns a value other than `undefined`/`false`, for state that lives in
 * another process (a row in PostgreSQL, a job in Redis) where no event can be awaited.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  const interval = options.intervalMs ?? 25;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) {
        return value;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError ? `; last error: ${(lastError as Error).message}` : '';
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** Waits until a process's `/readyz` (at `opsUrl`) answers 200: its dependencies are up. */
export async function waitForReady(opsUrl: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => (await fetch(`${opsUrl}/readyz`)).status === 200, {
    what: `${opsUrl}/readyz to answer 200`,
    timeoutMs,
  });
}
