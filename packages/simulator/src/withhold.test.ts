import { GROUP_AFTER_SEND_MSG, SUPPORTED_COMMANDS } from '@imsync/protocol';
import { expect, test } from 'vitest';
import { EventFactory } from './events.js';
import { Random } from './random.js';
import type { GeneratedEvent } from './refs.js';
import { createWithholder } from './withhold.js';

const COUNT = 3000;

function run(drop: number, tail: number, commands: readonly string[] = [GROUP_AFTER_SEND_MSG]) {
  const factory = new EventFactory({ apps: ['1600012345'], commands, seed: 5 });
  const withhold = createWithholder({ drop, tail, count: COUNT }, new Random(9));
  const events = Array.from({ length: COUNT }, (_, i) => factory.next(COUNT - i));
  return { events, withheld: events.map((event, i) => withhold(event, i)) };
}

const bodyOf = (event: GeneratedEvent) => JSON.parse(event.body) as { Type: string; OnlineOnlyFlag: number };
const sequenceOf = (event: GeneratedEvent) =>
  event.ref.kind === 'group-message' ? `${event.ref.identity.groupId}\n${event.ref.identity.topicId}` : '';

test('only what backfill can recover is withheld: never a first message, an AVChatRoom or online-only one', () => {
  const { events, withheld } = run(0.5, 0, SUPPORTED_COMMANDS);
  const seen = new Set<string>();
  let kept = 0;
  events.forEach((event, i) => {
    const first = event.ref.kind === 'group-message' && !seen.has(sequenceOf(event));
    seen.add(sequenceOf(event));
    if (!withheld[i]) {
      return;
    }
    kept++;
    expect(event.command).toBe(GROUP_AFTER_SEND_MSG);
    expect(first).toBe(false);
    expect(bodyOf(event).Type).not.toBe('AVChatRoom');
    expect(bodyOf(event).OnlineOnlyFlag).toBe(0);
  });
  expect(kept).toBeGreaterThan(0);
});

test('about the share asked for is withheld, and every droppable message of the tail', () => {
  const { events, withheld } = run(0.05, 100);
  const droppable = events.map((event) => bodyOf(event).Type !== 'AVChatRoom' && bodyOf(event).OnlineOnlyFlag === 0);
  const before = withheld.slice(0, COUNT - 100).filter(Boolean).length;
  const droppableBefore = droppable.slice(0, COUNT - 100).filter(Boolean).length;
  expect(before / droppableBefore).toBeGreaterThan(0.03);
  expect(before / droppableBefore).toBeLessThan(0.07);
  for (let i = COUNT - 100; i < COUNT; i++) {
    expect(withheld[i]).toBe(droppable[i]);
  }
});

test('nothing is withheld when neither a share nor a tail is asked for', () => {
  expect(run(0, 0).withheld.some(Boolean)).toBe(false);
});
