import { existsSync } from 'node:fs';

let probe: Promise<boolean> | undefined;

/**
 * Whether a Docker engine answers, so services can run in testcontainers. Without one (these
 * machines) testcontainers fails in milliseconds and the harness runs local binaries instead.
 * `IMSYNC_TEST_SERVICES=local` forces the local binaries either way.
 */
export function dockerAvailable(): Promise<boolean> {
  if (process.env.IMSYNC_TEST_SERVICES === 'local') {
    return Promise.resolve(false);
  }
  probe ??= (async () => {
    if (!existsSync('/var/run/docker.sock') && !process.env.DOCKER_HOST) {
      return false;
    }
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      await getContainerRuntimeClient();
      return true;
    } catch {
      return false;
    }
  })();
  return probe;
}
