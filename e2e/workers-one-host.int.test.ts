import { freePort, repoRoot, spawnCaptured, waitFor } from '@imsync/testing';
import { test } from '@imsync/testing/vitest';
import { expect } from 'vitest';
import { SDK_APP_ID } from './stack.js';

/** `pnpm start:worker` exactly as README's Scaling section runs it, with the output kept. */
function startWorker(env: Record<string, string>) {
  const worker = spawnCaptured('pnpm', ['start:worker'], { cwd: repoRoot, env });
  /** The worker's "worker started" log line, once it was written. */
  const started = () =>
    worker
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; port?: number })
      .find((line) => line.msg === 'worker started');
  return { ...worker, started };
}

test('two workers on one host: the second needs its own METRICS_PORT and says so in one line', async ({
  redis,
  databaseUrl,
}) => {
  const env = {
    REDIS_URL: redis.url,
    DATABASE_URL: databaseUrl,
    TIM_SDK_APP_ID: SDK_APP_ID,
    QUEUE_PREFIX: `one-host-${process.pid}`,
    METRICS_PORT: String(await freePort()),
  };
  const first = startWorker(env);
  const second = startWorker({ ...env, METRICS_PORT: String(await freePort()) });
  let clash: ReturnType<typeof startWorker> | undefined;
  try {
    // The first holds its port before the clash starts; started together, either could win it.
    await waitFor(first.started, { what: 'the first worker started', timeoutMs: 30_000 });
    clash = startWorker(env);
    // The same environment as the first: refused, with one line naming the variable, no stack trace.
    expect(await clash.closed()).not.toBe(0);
    const ours = clash
      .output()
      .split('\n')
      .filter((line) => line.startsWith('imsync-worker:'));
    expect(ours).toEqual([expect.stringMatching(/^imsync-worker: METRICS_PORT: 127\.0\.0\.1:\d+ is already in use/)]);
    expect(clash.output()).not.toMatch(/EADDRINUSE|\n\s+at |shutdown step failed/);

    // As README says: a second worker with its own port runs beside the first, and both answer.
    for (const worker of [first, second]) {
      const { port } = await waitFor(worker.started, { what: 'worker started', timeoutMs: 30_000 });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
    }
    expect(first.started()?.port).toBe(Number(env.METRICS_PORT));
  } finally {
    await Promise.all([first.stop(), second.stop(), clash?.stop()]);
  }
});
