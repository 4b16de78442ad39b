import { type AppProcess, signedCallbackUrl, startAppProcess, waitForReady } from '@imsync/testing';
import { test as base } from '@imsync/testing/vitest';

export const SDK_APP_ID = '1600012345';
export const TOKEN = 'k3m9-ChatCb-Token-2026';

/** `url` signed with `TOKEN` now, as the IM backend sends a callback. */
export function signed(url: string): string {
  return signedCallbackUrl(url, { sdkAppId: SDK_APP_ID, token: TOKEN });
}

export interface ReceiverProcess {
  receiver: AppProcess;
  port: number;
  /** Where callbacks go, unsigned. */
  callbackUrl: string;
  /** The ops server: /readyz and /metrics (not on the callback port). */
  opsUrl: string;
}

/**
 * A receiver process on a free port of 127.0.0.1, started as `pnpm start:receiver` would, with
 * `env` added. It listens before its Redis connection is up (and answers 503 until then), so this
 * waits for `/readyz`, as a load balancer would, unless `ready: false` (tests of that window).
 */
export async function startReceiver(
  env: Record<string, string>,
  options: { ready?: boolean } = {},
): Promise<ReceiverProcess> {
  // Port 0: the kernel picks a free port as the receiver binds it (a port found free beforehand
  // could be taken by another test's process before the receiver binds it); the log says which.
  const receiver = await startAppProcess('receiver', {
    ...env,
    TIM_SDK_APP_ID: SDK_APP_ID,
    TIM_CALLBACK_TOKEN: TOKEN,
    PORT: '0',
    HOST: '127.0.0.1',
    METRICS_PORT: '0',
  });
  const { port, opsPort } = (await receiver.waitForLine((line) => line.msg === 'receiver listening')) as {
    port: number;
    opsPort: number;
  };
  if (options.ready ?? true) {
    await waitForReady(`http://127.0.0.1:${opsPort}`);
  }
  return {
    receiver,
    port,
    callbackUrl: `http://127.0.0.1:${port}/im/callback`,
    opsUrl: `http://127.0.0.1:${opsPort}`,
  };
}

export interface Stack {
  receiverUrl: string;
  /** The receiver's ops server: /readyz and /metrics. */
  receiverOpsUrl: string;
  databaseUrl: string;
  prefix: string;
  receiver: AppProcess;
  workers: AppProcess[];
  /** Stops every process (SIGTERM) and resolves with their exit codes, the receiver's first. */
  stop(): Promise<(number | NodeJS.Signals | null)[]>;
}

let counter = 0;

/**
 * `test` with a `stack`: the receiver and `stackWorkers` worker processes (1 unless a file extends
 * it), started as `pnpm start:*` would, on the file's services and the test's own database, and
 * stopped after the test.
 */
export const test = base
  .extend('stackWorkers', 1 as number)
  .extend('stack', async ({ redis, databaseUrl, stackWorkers }, { onCleanup }): Promise<Stack> => {
    const prefix = `e2e${process.pid}x${++counter}`;
    const common = { REDIS_URL: redis.url, QUEUE_PREFIX: prefix };
    const { receiver, callbackUrl, opsUrl } = await startReceiver(common);
    const starts = await Promise.allSettled(
      Array.from({ length: stackWorkers }, () =>
        startAppProcess('worker', {
          ...common,
          DATABASE_URL: databaseUrl,
          TIM_SDK_APP_ID: SDK_APP_ID,
          METRICS_PORT: '0',
          WORKER_CONCURRENCY: '20',
        }),
      ),
    );
    const workers = starts.flatMap((each) => (each.status === 'fulfilled' ? [each.value] : []));
    const failed = starts.find((each) => each.status === 'rejected');
    if (failed) {
      // What did start does not outlive the failed attempt.
      await Promise.all([receiver, ...workers].map((each) => each.stop('SIGKILL')));
      throw failed.reason;
    }
    const stop = () => Promise.all([receiver.stop(), ...workers.map((w) => w.stop())]);
    onCleanup(async () => {
      await stop();
    });
    return { receiverUrl: callbackUrl, receiverOpsUrl: opsUrl, databaseUrl, prefix, receiver, workers, stop };
  });
