import { GroupMessageSchema, KNOWN_ELEMENT_TYPES } from '@imsync/protocol';
import * as v from 'valibot';
import { expect, test } from 'vitest';
import { MessageFactory } from './messages.js';
import { summarizeLatencies } from './stats.js';

test('every generated body is a valid callback, and every element type comes up', () => {
  const factory = new MessageFactory({ seed: 7 });
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const message = factory.next();
    const parsed = v.safeParse(GroupMessageSchema, JSON.parse(message.body));
    expect(parsed.issues).toBeUndefined();
    const body = parsed.output as v.InferOutput<typeof GroupMessageSchema>;
    expect(message.identity).toEqual({
      groupId: body.GroupId,
      topicId: body.TopicId ?? '',
      msgSeq: body.MsgSeq,
      random: body.Random,
    });
    for (const element of body.MsgBody) {
      seen.add(element.MsgType);
    }
  }
  expect([...seen].sort()).toEqual([...KNOWN_ELEMENT_TYPES].sort());
});

test('the same seed gives the same messages; identities do not repeat', () => {
  const a = new MessageFactory({ seed: 42 });
  const b = new MessageFactory({ seed: 42 });
  const keys = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const message = a.next();
    expect(b.next().identity).toEqual(message.identity);
    keys.add(JSON.stringify(message.identity));
  }
  expect(keys.size).toBe(500);
});

test('latency percentiles', () => {
  const samples = Array.from({ length: 1000 }, (_, i) => i + 1);
  expect(summarizeLatencies(samples)).toMatchObject({
    count: 1000,
    p50: 500,
    p90: 900,
    p99: 990,
    max: 1000,
    mean: 500.5,
  });
  expect(summarizeLatencies([])).toMatchObject({ count: 0, max: 0 });
});
