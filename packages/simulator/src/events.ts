import {
  C2C_AFTER_MSG_WITHDRAW,
  C2C_AFTER_SEND_MSG,
  CALLBACK_CATALOG,
  type CallbackDefinition,
  formatIssues,
  GROUP_AFTER_RECALL_MSG,
  GROUP_AFTER_SEND_MSG,
  parseCallback,
  SUPPORTED_COMMANDS,
} from '@imsync/protocol';
import { buildC2cMessage, buildC2cWithdraw } from './c2c.js';
import { type Dialect, GROUP_EVENT_BUILDERS } from './group-events.js';
import {
  buildGroupMessage,
  buildGroupRecall,
  createGroups,
  type RecallItem,
  type SimGroup,
  USERS,
} from './messages.js';
import { Random } from './random.js';
import type { GeneratedEvent, GroupMessageEvent } from './refs.js';

/** The message command whose messages each recall command names. */
const RECALLED: Readonly<Record<string, string>> = {
  [GROUP_AFTER_RECALL_MSG]: GROUP_AFTER_SEND_MSG,
  [C2C_AFTER_MSG_WITHDRAW]: C2C_AFTER_SEND_MSG,
};

/** Why `commands` cannot be generated (unknown, or a recall without its messages), if it cannot. */
export function commandsProblem(commands: readonly string[]): string | undefined {
  const unknown = commands.filter((command) => !SUPPORTED_COMMANDS.includes(command));
  if (commands.length === 0 || unknown.length > 0) {
    return `must list supported commands only (${unknown.join(', ') || 'none listed'}); supported: ${SUPPORTED_COMMANDS.join(', ')}`;
  }
  for (const [recall, message] of Object.entries(RECALLED)) {
    if (commands.includes(recall) && !commands.includes(message)) {
      return `${recall} needs ${message} too: its recalls name messages the same run sends`;
    }
  }
  return undefined;
}

/** How often each command starts something new, relative to the others; recalls come from messages. */
const WEIGHTS: Readonly<Record<string, number>> = { [GROUP_AFTER_SEND_MSG]: 10, [C2C_AFTER_SEND_MSG]: 6 };
const GROUP_EVENT_WEIGHT = 1;
/** A recall that follows its message comes this many events later at most (and so does an early recall's message). */
const FOLLOW_UP_WITHIN = 20;
const RECENT_PER_PLACE = 8;

export interface EventFactoryOptions {
  /** SDKAppIDs: each new event goes to one of them, a recall to its message's. */
  apps: readonly string[];
  /** Catalog commands to generate (default: group messages only); a recall command needs its message command. */
  commands?: readonly string[];
  /** Groups per app. */
  groups?: number;
  seed?: number;
  /** Share of messages (group, and C2C ones delivered) recalled in the run, if recalls are among the commands (default 0.1). */
  recallRatio?: number;
  /** Share of those recalls sent before their message (default 0.2): the archive keeps them until it lands. */
  earlyRecallRatio?: number;
  /** Share of C2C sends that failed: `SendMsgResult` ≠ 0, `UnreadMsgNum` -1 (default 0.05). */
  failedSendRatio?: number;
}

interface AppState {
  readonly sdkAppId: string;
  readonly groups: SimGroup[];
  readonly created: SimGroup[];
  c2cSeq: number;
  /** Group messages sent and not recalled, by group and topic: what a recall may name besides its own. */
  readonly recent: Map<string, RecallItem[]>;
}

interface FollowUp {
  /** The call of `next` from which it is due. */
  readonly at: number;
  readonly make: () => GeneratedEvent;
}

/**
 * Realistic callbacks of any catalog commands, over several apps: group messages (as
 * `MessageFactory`), recalls of them, C2C messages (some failed) and their withdrawals, and group
 * lifecycle and membership events. A recall names messages of this run: most follow their message
 * within a few events, a share comes first. Distinct events never share a catalog key.
 */
export class EventFactory {
  private readonly random: Random;
  private readonly apps: AppState[];
  private readonly starters: { command: string; weight: number }[];
  private readonly totalWeight: number;
  private readonly recallGroup: boolean;
  private readonly recallC2c: boolean;
  private readonly recallRatio: number;
  private readonly earlyRecallRatio: number;
  private readonly failedSendRatio: number;
  /** Recalls due after their message, and messages due after their early recall, by `at`. */
  private readonly followUps: FollowUp[] = [];
  private calls = 0;
  private elements = 0;

  constructor(options: EventFactoryOptions) {
    const commands = options.commands ?? [GROUP_AFTER_SEND_MSG];
    const problem = commandsProblem(commands);
    if (problem) {
      throw new Error(`commands ${problem}`);
    }
    if (options.apps.length === 0) {
      throw new Error('at least one app is needed');
    }
    const r = new Random(options.seed ?? Date.now());
    this.random = r;
    this.apps = options.apps.map((sdkAppId) => ({
      sdkAppId,
      groups: createGroups(r, options.groups ?? 20),
      created: [],
      c2cSeq: r.int(1, 1_000_000),
      recent: new Map(),
    }));
    this.starters = commands
      .filter((command) => !RECALLED[command])
      .map((command) => ({ command, weight: WEIGHTS[command] ?? GROUP_EVENT_WEIGHT }));
    this.totalWeight = this.starters.reduce((sum, starter) => sum + starter.weight, 0);
    this.recallGroup = commands.includes(GROUP_AFTER_RECALL_MSG);
    this.recallC2c = commands.includes(C2C_AFTER_MSG_WITHDRAW);
    this.recallRatio = options.recallRatio ?? 0.1;
    this.earlyRecallRatio = options.earlyRecallRatio ?? 0.2;
    this.failedSendRatio = options.failedSendRatio ?? 0.05;
  }

  /**
   * The next event. `left`: how many more the caller will ask for, this one included; a recall and
   * its message are both sent within it (an early recall never lacks its message).
   */
  next(left = Number.POSITIVE_INFINITY): GeneratedEvent {
    this.calls++;
    const first = this.followUps[0];
    if (first !== undefined && (first.at <= this.calls || this.followUps.length >= left)) {
      this.followUps.shift();
      return first.make();
    }
    const r = this.random;
    const app = (this.apps.length === 1 ? this.apps[0] : r.pick(this.apps)) as AppState;
    const command = this.pickStarter();
    // Room for a follow-up: this event, the follow-ups already due, and one more.
    const room = this.followUps.length + 2 <= left;
    if (command === GROUP_AFTER_SEND_MSG) {
      return this.groupMessage(app, room);
    }
    if (command === C2C_AFTER_SEND_MSG) {
      return this.c2cMessage(app, room);
    }
    return this.groupEvent(app, command);
  }

  private pickStarter(): string {
    const starters = this.starters;
    if (starters.length > 1) {
      let x = this.random.next() * this.totalWeight;
      for (const starter of starters) {
        x -= starter.weight;
        if (x < 0) {
          return starter.command;
        }
      }
    }
    return (starters[starters.length - 1] as { command: string }).command;
  }

  private dialect(): Dialect {
    return this.random.next() < 0.5 ? 'cn' : 'intl';
  }

  private later(make: () => GeneratedEvent): void {
    const at = this.calls + this.random.int(1, FOLLOW_UP_WITHIN);
    const i = this.followUps.findIndex((followUp) => followUp.at > at);
    this.followUps.splice(i === -1 ? this.followUps.length : i, 0, { at, make });
  }

  /** Whether the message just made is recalled in this run, and if so whether its recall goes first. */
  private recall(enabled: boolean, room: boolean): 'no' | 'after' | 'early' {
    if (!enabled || !room || this.random.next() >= this.recallRatio) {
      return 'no';
    }
    return this.random.next() < this.earlyRecallRatio ? 'early' : 'after';
  }

  private groupMessage(app: AppState, room: boolean): GeneratedEvent {
    const r = this.random;
    const group = r.pick(app.groups);
    const topicId = r.pick(group.topics);
    const built = buildGroupMessage(r, group, topicId, this.elements++);
    const message: GroupMessageEvent = {
      command: GROUP_AFTER_SEND_MSG,
      body: built.body,
      identity: built.identity,
      ref: { kind: 'group-message', sdkAppId: app.sdkAppId, identity: built.identity },
    };
    const item = { seq: built.identity.msgSeq, msgId: built.msgId };
    const place = `${group.id}\n${topicId}`;
    const recall = (items: RecallItem[], early: boolean) =>
      this.groupRecall(app, group, topicId, items, built.from, early);
    switch (this.recall(this.recallGroup, room)) {
      case 'early':
        this.later(() => message);
        return recall([item], true);
      case 'after':
        this.later(() => recall([item, ...this.takeRecent(app, place)], false));
        return message;
      case 'no':
        if (this.recallGroup) {
          const recent = app.recent.get(place) ?? [];
          recent.push(item);
          recent.splice(0, recent.length - RECENT_PER_PLACE);
          app.recent.set(place, recent);
        }
        return message;
    }
  }

  /** Now and then a recall names other messages of the same place too (Tencent recalls in batches). */
  private takeRecent(app: AppState, place: string): RecallItem[] {
    const recent = app.recent.get(place);
    return recent && this.random.next() < 0.25 ? recent.splice(0, this.random.int(1, 2)) : [];
  }

  private groupRecall(
    app: AppState,
    group: SimGroup,
    topicId: string,
    items: readonly RecallItem[],
    sender: string,
    early: boolean,
  ): GeneratedEvent {
    const operator = items.length > 1 || this.random.next() < 0.2 ? 'administrator' : sender;
    return {
      command: GROUP_AFTER_RECALL_MSG,
      body: buildGroupRecall(group, topicId, items, operator, this.dialect()),
      ref: {
        kind: 'group-recall',
        sdkAppId: app.sdkAppId,
        groupId: group.id,
        topicId,
        msgSeqs: items.map((item) => item.seq),
        early,
      },
    };
  }

  private c2cMessage(app: AppState, room: boolean): GeneratedEvent {
    const r = this.random;
    const from = r.pick(USERS);
    const to = r.pick(USERS.filter((user) => user !== from));
    const failed = r.next() < this.failedSendRatio;
    const send = { from, to, msgSeq: app.c2cSeq++, elementIndex: this.elements++, failed, dialect: this.dialect() };
    const { body, msgKey, sendResult } = buildC2cMessage(r, send);
    const sdkAppId = app.sdkAppId;
    const message: GeneratedEvent = {
      command: C2C_AFTER_SEND_MSG,
      body,
      ref: { kind: 'c2c-message', sdkAppId, from, to, msgKey, sendResult },
    };
    const withdraw = (early: boolean): GeneratedEvent => ({
      command: C2C_AFTER_MSG_WITHDRAW,
      body: buildC2cWithdraw(r, from, to, msgKey, this.dialect()),
      ref: { kind: 'c2c-recall', sdkAppId, from, to, msgKey, early },
    });
    // Only a delivered message can be withdrawn.
    switch (this.recall(this.recallC2c && !failed, room)) {
      case 'early':
        this.later(() => message);
        return withdraw(true);
      case 'after':
        this.later(() => withdraw(false));
        return message;
      case 'no':
        return message;
    }
  }

  private groupEvent(app: AppState, command: string): GeneratedEvent {
    const build = GROUP_EVENT_BUILDERS[command] as (typeof GROUP_EVENT_BUILDERS)[string];
    const body = build({ random: this.random, groups: app.groups, created: app.created, dialect: this.dialect() });
    // The key is the catalog's, from the body as the receiver reads it (EventTime normalised).
    const parsed = parseCallback(CALLBACK_CATALOG[command] as CallbackDefinition, app.sdkAppId, body);
    if (!parsed.ok) {
      throw new Error(`generated an invalid ${command}: ${formatIssues(parsed.issues)}`);
    }
    return {
      command,
      body: JSON.stringify(body),
      ref: { kind: 'group-event', sdkAppId: app.sdkAppId, command, eventKey: parsed.key },
    };
  }
}
