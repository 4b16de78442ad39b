import { randomBytes } from 'node:crypto';
import { test } from '@imsync/testing/vitest';
import { expect } from 'vitest';
import { startFailoverProbe } from './failover-probe.js';

// The producer and a BullMQ worker behind Redis Sentinel (local processes): a failover is followed
// by both, and with REDIS_WAIT_REPLICAS=1 nothing acknowledged is lost in it.

test('a master killed under Sentinel: enqueues fail until a replica can back them again, the worker follows the new master by itself, every acknowledged job is processed', async ({
  redisSentinel,
}) => {
  // A prefix of each attempt's own: a retry on the file's Redis would otherwise find the first
  // attempt's jobs under the same ids, acknowledge them as repeats and never see them processed.
  const probe = await startFailoverProbe(redisSentinel.url, `sentinel-${randomBytes(4).toString('hex')}`);
  try {
    // The master now, not the one at start: a retry runs on the file's servers, after the first
    // attempt's failover, and must kill the master again, not the replica.
    const masterPort = await redisSentinel.masterPort();
    const first = redisSentinel.servers.find((server) => server.port === masterPort);
    const replica = redisSentinel.servers.find((server) => server.port !== masterPort);
    if (!first || !replica) {
      throw new Error('a master and a replica were expected');
    }
    await probe.expectAcknowledged(50);
    await first.stop('crash');
    // The Sentinels promote the replica; it has no replica of its own to wait for, so nothing
    // can back a job until the old master is back, as a replica.
    const promoted = Date.now() + 20_000;
    while ((await redisSentinel.masterPort()) !== replica.port && Date.now() < promoted) {
      await probe.send();
    }
    expect(await redisSentinel.masterPort()).toBe(replica.port);
    expect(await probe.send()).toBe(false);
    await first.start();
    expect(await probe.sendUntilAcknowledged(100), probe.reasons()).toBe(true);
    await probe.expectAcknowledged(50);
    await probe.expectAllProcessed(30_000);
  } finally {
    await probe.close();
  }
});
