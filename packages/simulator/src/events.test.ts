import {
  C2C_AFTER_MSG_WITHDRAW,
  CALLBACK_CATALOG,
  type CallbackDefinition,
  GROUP_AFTER_RECALL_MSG,
  GROUP_AFTER_SEND_MSG,
  parseCallback,
  SUPPORTED_COMMANDS,
} from '@imsync/protocol';
import { describe, expect, test } from 'vitest';
import { commandsProblem, EventFactory, type EventFactoryOptions } from './events.js';
import type { C2cRecallRef, EventRef, GeneratedEvent, GroupRecallRef } from './refs.js';

const APPS = ['1400000001', '1600012345'];

function generate(count: number, options: Partial<EventFactoryOptions> = {}) {
  const factory = new EventFactory({ apps: APPS, commands: SUPPORTED_COMMANDS, seed: 11, ...options });
  return Array.from({ length: count }, (_, i) => factory.next(count - i));
}

const parse = (event: GeneratedEvent) =>
  parseCallback(CALLBACK_CATALOG[event.command] as CallbackDefinition, event.ref.sdkAppId, JSON.parse(event.body));

/** Where each message of a run was sent, by what a recall names it with. */
function messagePositions(events: readonly GeneratedEvent[]) {
  const positions = new Map<string, Sent>();
  events.forEach(({ ref }, at) => {
    if (ref.kind === 'group-message') {
      const { groupId, topicId, msgSeq } = ref.identity;
      positions.set(JSON.stringify([ref.sdkAppId, groupId, topicId, msgSeq]), { at, ref });
    } else if (ref.kind === 'c2c-message') {
      positions.set(JSON.stringify([ref.sdkAppId, ref.from, ref.to, ref.msgKey]), { at, ref });
    }
  });
  return positions;
}

interface Sent {
  at: number;
  ref: EventRef;
}

interface Recall {
  at: number;
  ref: GroupRecallRef | C2cRecallRef;
  /** Where each message it names was sent (undefined: not in the run). */
  named: (Sent | undefined)[];
}

/** Each recall of a run with the positions of the messages it names. */
function recalledPositions(events: readonly GeneratedEvent[]): Recall[] {
  const positions = messagePositions(events);
  return events.flatMap(({ ref }, at): Recall[] => {
    if (ref.kind === 'group-recall') {
      const named = ref.msgSeqs.map((seq) =>
        positions.get(JSON.stringify([ref.sdkAppId, ref.groupId, ref.topicId, seq])),
      );
      return [{ at, ref, named }];
    }
    if (ref.kind === 'c2c-recall') {
      return [{ at, ref, named: [positions.get(JSON.stringify([ref.sdkAppId, ref.from, ref.to, ref.msgKey]))] }];
    }
    return [];
  });
}

describe('EventFactory', () => {
  test('thousands of bodies of every command, over both apps, each valid for its catalog schema', () => {
    const events = generate(5000);
    const seen = { commands: new Set<string>(), apps: new Set<string>(), eventTimes: new Set<string>() };
    for (const event of events) {
      const body = JSON.parse(event.body) as { CallbackCommand: string; EventTime?: unknown };
      expect(body.CallbackCommand).toBe(event.command);
      const parsed = parse(event);
      expect(parsed.ok ? [] : parsed.issues).toEqual([]);
      seen.commands.add(event.command);
      seen.apps.add(event.ref.sdkAppId);
      seen.eventTimes.add(`${event.command} ${typeof body.EventTime}`);
    }
    expect([...seen.commands].sort()).toEqual([...SUPPORTED_COMMANDS].sort());
    expect([...seen.apps].sort()).toEqual(APPS);
    // Both EventTime spellings of Tencent's samples: a number (CN) and a digit string (intl). Group
    // messages keep theirs a number as ever; C2C callbacks document only the number.
    for (const command of SUPPORTED_COMMANDS.filter((c) => !c.startsWith('C2C.') && c !== GROUP_AFTER_SEND_MSG)) {
      expect(seen.eventTimes).toContain(`${command} number`);
      expect(seen.eventTimes).toContain(`${command} string`);
    }
  });

  test('distinct events never share a catalog key, and each ref says what its body is', () => {
    const events = generate(5000, { seed: 12 });
    const keys = new Set<string>();
    for (const event of events) {
      const parsed = parse(event);
      if (!parsed.ok) {
        throw new Error(`invalid ${event.command}`);
      }
      keys.add(parsed.key);
      const body = parsed.body as Record<string, unknown>;
      const { ref } = event;
      switch (ref.kind) {
        case 'group-message':
          expect(ref.identity).toEqual({
            groupId: body.GroupId,
            topicId: body.TopicId ?? '',
            msgSeq: body.MsgSeq,
            random: body.Random,
          });
          break;
        case 'group-recall':
          expect([ref.groupId, ref.topicId, ref.msgSeqs]).toEqual([
            body.GroupId,
            body.TopicId ?? '',
            (body.MsgSeqList as { MsgSeq: number }[]).map((item) => item.MsgSeq),
          ]);
          break;
        case 'c2c-message':
          expect([ref.from, ref.to, ref.msgKey, ref.sendResult]).toEqual([
            body.From_Account,
            body.To_Account,
            body.MsgKey,
            body.SendMsgResult,
          ]);
          break;
        case 'c2c-recall':
          expect([ref.from, ref.to, ref.msgKey]).toEqual([body.From_Account, body.To_Account, body.MsgKey]);
          break;
        case 'group-event':
          expect([ref.command, ref.eventKey]).toEqual([event.command, parsed.key]);
          break;
      }
    }
    expect(keys.size).toBe(events.length);
  });

  test('recalls name messages the run sends in the same app and group or topic: most after them, a share before', () => {
    const events = generate(5000, { seed: 13, earlyRecallRatio: 0.3 });
    const recalls = recalledPositions(events);
    const recalled = new Set<string>();
    for (const { at, ref, named } of recalls) {
      for (const message of named) {
        expect(message).toBeDefined();
        expect(recalled.has(JSON.stringify(message?.ref))).toBe(false);
        recalled.add(JSON.stringify(message?.ref));
      }
      if (ref.early) {
        expect(named).toHaveLength(1);
        expect(named[0]?.at).toBeGreaterThan(at);
      } else {
        expect(named.every((message) => message !== undefined && message.at < at)).toBe(true);
      }
    }
    const byCommand = (kind: EventRef['kind']) => recalls.filter((recall) => recall.ref.kind === kind);
    for (const kind of ['group-recall', 'c2c-recall'] as const) {
      const early = byCommand(kind).filter((recall) => recall.ref.early).length;
      expect(early / byCommand(kind).length).toBeGreaterThan(0.15);
      expect(early / byCommand(kind).length).toBeLessThan(0.45);
    }
    // Now and then one recall names several messages of one place (Tencent recalls in batches).
    expect(byCommand('group-recall').some((recall) => recall.named.length > 1)).toBe(true);
    const messages = events.filter((event) => event.command === GROUP_AFTER_SEND_MSG).length;
    expect(byCommand('group-recall').length / messages).toBeGreaterThan(0.05);
    expect(byCommand('group-recall').length / messages).toBeLessThan(0.15);
  });

  test('a recall and its message are both sent within the count asked for, even with many early recalls', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const count = 40;
      const factory = new EventFactory({
        apps: APPS,
        commands: SUPPORTED_COMMANDS,
        seed,
        recallRatio: 0.6,
        earlyRecallRatio: 0.6,
      });
      const run = Array.from({ length: count }, (_, i) => factory.next(count - i));
      // What the factory makes after the run must not be a follow-up of it.
      const after = Array.from({ length: 30 }, () => factory.next());
      const recalls = recalledPositions([...run, ...after]);
      expect(recalls.some((recall) => recall.at < count && recall.ref.early)).toBe(true);
      // A recall's first message is its own (the others of a batch were sent before it, and stay in).
      for (const { at, named } of recalls) {
        const own = named[0]?.at ?? Number.POSITIVE_INFINITY;
        expect(at < count ? own < count : own >= count).toBe(true);
      }
    }
  });

  test('some C2C sends failed (SendMsgResult ≠ 0, UnreadMsgNum -1); only delivered ones are withdrawn', () => {
    const events = generate(3000, { seed: 14, failedSendRatio: 0.2 });
    const sends = events.filter((event) => event.ref.kind === 'c2c-message');
    const failed = sends.filter((event) => JSON.parse(event.body).SendMsgResult !== 0);
    expect(failed.length / sends.length).toBeGreaterThan(0.1);
    for (const event of failed) {
      expect(JSON.parse(event.body)).toMatchObject({ UnreadMsgNum: -1 });
    }
    for (const { ref, named } of recalledPositions(events)) {
      if (ref.kind === 'c2c-recall') {
        expect(named[0]?.ref).toMatchObject({ sendResult: 0 });
      }
    }
  });

  test('by default group messages only, each with its identity, as MessageFactory makes them', () => {
    const factory = new EventFactory({ apps: ['1600012345'], seed: 1 });
    for (let i = 0; i < 100; i++) {
      const event = factory.next();
      expect(event.command).toBe(GROUP_AFTER_SEND_MSG);
      expect('identity' in event && event.ref.kind === 'group-message' && event.identity).toBe(
        event.ref.kind === 'group-message' && event.ref.identity,
      );
    }
  });

  test('a recall command without its message command is refused, as is an unknown command', () => {
    expect(commandsProblem([GROUP_AFTER_RECALL_MSG])).toMatch(/needs Group\.CallbackAfterSendMsg/);
    expect(commandsProblem([GROUP_AFTER_SEND_MSG, C2C_AFTER_MSG_WITHDRAW])).toMatch(/needs C2C\.CallbackAfterSendMsg/);
    expect(commandsProblem(['Group.CallbackBeforeSendMsg'])).toMatch(/supported commands only/);
    expect(commandsProblem([])).toMatch(/supported commands only/);
    expect(commandsProblem(SUPPORTED_COMMANDS)).toBeUndefined();
    expect(() => new EventFactory({ apps: APPS, commands: [C2C_AFTER_MSG_WITHDRAW] })).toThrow(/needs/);
  });
});
