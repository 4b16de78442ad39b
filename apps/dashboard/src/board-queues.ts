import type { QueueLayout, QueueLocation, RedisClient } from '@imsync/queue';
import { Queue } from 'bullmq';

export interface BoardQueues {
  /** The queues every deployment has: each ingest queue workers read, and backfill. */
  readonly queues: readonly Queue[];
  /** Opens another queue (a destination's) on the same connection. */
  open(location: QueueLocation): Queue;
}

/** The board's queues, where the layout puts them (one ingest queue or every shard). */
export function openBoardQueues(
  layout: QueueLayout,
  connection: RedisClient,
  onError: (error: Error, queue: string) => void,
): BoardQueues {
  const open = (location: QueueLocation) => {
    const queue = new Queue(location.name, { connection, prefix: location.prefix });
    queue.on('error', (error) => onError(error, location.name));
    return queue;
  };
  return { queues: [...layout.consumed, layout.backfill].map(open), open };
}
