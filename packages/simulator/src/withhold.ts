import type { Random } from './random.js';
import type { GeneratedEvent } from './refs.js';

export interface WithholdOptions {
  /** Share (0–1) of droppable group messages withheld. */
  readonly drop: number;
  /** Droppable group messages among the last `tail` new callbacks of the run are withheld too. */
  readonly tail: number;
  /** New callbacks of the whole run. */
  readonly count: number;
}

/**
 * Which new callbacks to withhold, as if Tencent's request had been lost on the way. Only what
 * backfill can recover is droppable: a group message Tencent keeps (not of an AVChatRoom, not
 * online-only), and not the first of its group or topic, since a sequence begins, for imsync,
 * with the first message it stores (nothing can show a hole below it).
 */
export function createWithholder(
  options: WithholdOptions,
  random: Random,
): (event: GeneratedEvent, index: number) => boolean {
  const begun = new Set<string>();
  return (event, index) => {
    if (event.ref.kind !== 'group-message') {
      return false;
    }
    const { identity, sdkAppId } = event.ref;
    const sequence = `${sdkAppId}\n${identity.groupId}\n${identity.topicId}`;
    const first = !begun.has(sequence);
    begun.add(sequence);
    const body = JSON.parse(event.body) as { Type?: unknown; OnlineOnlyFlag?: unknown };
    if (first || body.Type === 'AVChatRoom' || body.OnlineOnlyFlag === 1) {
      return false;
    }
    return index >= options.count - options.tail || random.next() < options.drop;
  };
}
