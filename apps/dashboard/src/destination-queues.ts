import { withDeadline } from '@imsync/async';
import {
  DESTINATION_NAME,
  destinationsKey,
  type QueueLayout,
  type QueueLocation,
  type RedisClient,
} from '@imsync/queue';
import type { Logger } from '@imsync/runtime';
import type { Queue } from 'bullmq';

/**
 * A destination's name as the workers' config allows it (@imsync/destinations). The set is
 * written by workers, but anyone who can write under QUEUE_PREFIX can add to it: a name is used
 * in queue names, keys and the board's URLs only once it passed this.
 */

/** How long one read of the destinations' set waits for Redis, which may be reconnecting. */
const READ_TIMEOUT_MS = 2000;

/** One destination and the queue of its deliveries. */
export interface DestinationQueue {
  destination: string;
  queue: Queue;
}

/** The destinations' queues the dashboard knows: a list that grows as destinations are found. */
export interface DestinationQueues {
  /** The queues found so far, in the order found. */
  list(): readonly DestinationQueue[];
  /** `listener` hears of every queue: at once of those found already, then of each found later. */
  onFound(listener: (found: DestinationQueue) => void): void;
}

export interface DestinationDiscovery extends DestinationQueues {
  /** Reads the set once; never rejects (a failure is logged, and the next read tries again). */
  refresh(): Promise<void>;
  /** Stops reading and closes the queues it opened. */
  close(): Promise<void>;
}

export interface DestinationDiscoveryOptions {
  /** Reads the set `<prefix>:destinations` (SMEMBERS). */
  redis: RedisClient;
  /** Where the queues are; its prefix names the set. */
  layout: QueueLayout;
  /** Opens a queue on the dashboard's connection. */
  openQueue: (location: QueueLocation) => Queue;
  logger: Logger;
  /** How often the set is read again after the first read, at start. */
  intervalMs: number;
}

/**
 * Finds the destinations' delivery queues in the set of destination names the workers write when
 * they start: once now, then every `intervalMs`, so a destination added later shows up without a
 * restart. A name leaving the set keeps its queue: its failed jobs are still its dead letters.
 * While Redis is away a read gives up after READ_TIMEOUT_MS and is logged; the next one tries
 * again, and no second SMEMBERS is sent while one is still waiting in the connection's queue.
 */
export function startDestinationDiscovery(options: DestinationDiscoveryOptions): DestinationDiscovery {
  const { redis, logger, intervalMs } = options;
  const key = destinationsKey(options.layout.prefix);
  const found = new Map<string, DestinationQueue>();
  const refused = new Set<string>();
  const listeners: ((found: DestinationQueue) => void)[] = [];
  let reading: Promise<string[]> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const add = (name: string) => {
    if (found.has(name) || refused.has(name)) {
      return;
    }
    if (!DESTINATION_NAME.test(name)) {
      // Once per name: a bad entry stays in the set, and must not log at every read.
      refused.add(name);
      logger.warn(
        { destination: name.slice(0, 100), key },
        'skipped a destination whose name is not 1 to 63 of a-z, 0-9 and -, starting with a letter or digit',
      );
      return;
    }
    const entry = { destination: name, queue: options.openQueue(options.layout.delivery(name)) };
    found.set(name, entry);
    logger.info({ destination: name, queue: entry.queue.name }, 'destination queue found');
    for (const listener of listeners) {
      listener(entry);
    }
  };

  const refresh = async () => {
    try {
      reading ??= redis.smembers(key).finally(() => {
        reading = undefined;
      });
      const names = await withDeadline(reading, READ_TIMEOUT_MS, `redis did not answer within ${READ_TIMEOUT_MS} ms`);
      for (const name of [...names].sort()) {
        if (!closed) {
          add(name);
        }
      }
    } catch (error) {
      // Logged, never thrown: the reads below go on, and the board keeps what it found.
      logger.warn(
        { err: (error as Error).message, key, retryInMs: intervalMs },
        'could not read the destinations; trying again later',
      );
    }
  };

  const loop = () => {
    void refresh().then(() => {
      if (!closed) {
        timer = setTimeout(loop, intervalMs);
        // The board's connection and server keep the process alive; this timer must not.
        timer.unref();
      }
    });
  };
  loop();

  return {
    list: () => [...found.values()],
    onFound(listener) {
      for (const each of found.values()) {
        listener(each);
      }
      listeners.push(listener);
    },
    refresh,
    async close() {
      closed = true;
      clearTimeout(timer);
      await Promise.all([...found.values()].map(({ queue }) => queue.close()));
    },
  };
}
