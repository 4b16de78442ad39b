import { GROUP_AFTER_RECALL_MSG, GROUP_AFTER_SEND_MSG } from '@imsync/protocol';
import { ELEMENT_BUILDERS, ELEMENT_TYPES } from './elements.js';
import type { Dialect } from './group-events.js';
import { Random } from './random.js';

/** What the archive's unique key is made of (the SdkAppid aside). */
export interface GeneratedIdentity {
  readonly groupId: string;
  readonly topicId: string;
  readonly msgSeq: number;
  readonly random: number;
}

/** One callback body to send. */
export interface GeneratedMessage {
  readonly body: string;
  readonly identity: GeneratedIdentity;
}

/** A message without its body: enough to look it up in the archive, light to keep by the million. */
export type SentMessage = Pick<GeneratedMessage, 'identity'>;

/** A group the simulator plays: its sequence numbers go up message by message, its event times too. */
export interface SimGroup {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly owner: string;
  /** `''` (outside a topic) and, in Community groups, two topics. */
  readonly topics: readonly string[];
  /** The next MsgSeq of each topic (and of `''`): each has a sequence of its own, as in Tencent. */
  readonly seqs: Map<string, number>;
  /** The last EventTime given to one of its lifecycle or membership events (ms). */
  eventTime: number;
}

export const GROUP_TYPES = ['Public', 'Private', 'ChatRoom', 'AVChatRoom', 'Community'];
export const USERS = ['lin.wei', 'amara_k', 'mei.chen', 'u_48213', 'host_rina', 'viewer_3391'];
const GROUP_NAMES = ['Release notes', 'Design crit', '周末羽毛球', 'Ops on-call', 'Live: product launch 🚀'];

export function createGroup(r: Random, type: string): SimGroup {
  const id = type === 'Community' ? `@TGS#_@TGS#c${r.hex(10).toUpperCase()}` : `@TGS#${r.hex(9).toUpperCase()}`;
  const topics = type === 'Community' ? ['', `${id}@TOPIC#_general`, `${id}@TOPIC#_release-notes`] : [''];
  const start = r.int(1, 1_000_000);
  return {
    id,
    type,
    name: r.pick(GROUP_NAMES),
    owner: r.pick(USERS),
    topics,
    seqs: new Map(topics.map((topic, i) => [topic, start + i * 1000])),
    eventTime: 0,
  };
}

/** `count` groups, of every type in turn. */
export function createGroups(r: Random, count: number): SimGroup[] {
  return Array.from({ length: count }, (_, i) => createGroup(r, GROUP_TYPES[i % GROUP_TYPES.length] as string));
}

/** A generated group message with what a recall of it names. */
export interface BuiltGroupMessage extends GeneratedMessage {
  readonly msgId: string;
  readonly from: string;
}

/**
 * A realistic `Group.CallbackAfterSendMsg` body in `group` (and `topicId`): the element type
 * `elementIndex` names (and now and then a second element or an @mention), the group's next MsgSeq.
 */
export function buildGroupMessage(
  r: Random,
  group: SimGroup,
  topicId: string,
  elementIndex: number,
): BuiltGroupMessage {
  const from = r.pick(USERS);
  const elementType = ELEMENT_TYPES[elementIndex % ELEMENT_TYPES.length] as string;
  const elements = [(ELEMENT_BUILDERS[elementType] as (random: Random) => unknown)(r)];
  if (r.next() < 0.05) {
    elements.push((ELEMENT_BUILDERS.TIMFaceElem as (random: Random) => unknown)(r));
  }
  const now = Math.floor(Date.now() / 1000);
  const msgSeq = group.seqs.get(topicId) ?? 1;
  group.seqs.set(topicId, msgSeq + 1);
  const random = r.uint32();
  const msgId = `${r.int(1e17, 9e17)}-${now}-${random}`;
  const body: Record<string, unknown> = {
    CallbackCommand: GROUP_AFTER_SEND_MSG,
    GroupId: group.id,
    Type: group.type,
    From_Account: from,
    Operator_Account: r.next() < 0.05 ? 'administrator' : from,
    Random: random,
    MsgSeq: msgSeq,
    MsgId: msgId,
    MsgTime: now,
    OnlineOnlyFlag: group.type === 'AVChatRoom' ? 0 : r.next() < 0.02 ? 1 : 0,
    MsgBody: elements,
    CloudCustomData: '',
    EventTime: Date.now(),
  };
  if (topicId) {
    body.TopicId = topicId;
  }
  if (r.next() < 0.05) {
    body.GroupAtInfo = [{ GroupAtAllFlag: 0, GroupAt_Account: r.pick(USERS) }];
  }
  return { body: JSON.stringify(body), identity: { groupId: group.id, topicId, msgSeq, random }, msgId, from };
}

/** A group message as a recall names it. */
export interface RecallItem {
  readonly seq: number;
  readonly msgId: string;
}

/** `Group.CallbackAfterRecallMsg` of `items`, messages of `group` (and `topicId`). */
export function buildGroupRecall(
  group: SimGroup,
  topicId: string,
  items: readonly RecallItem[],
  operator: string,
  dialect: Dialect,
): string {
  const body: Record<string, unknown> = {
    CallbackCommand: GROUP_AFTER_RECALL_MSG,
    Operator_Account: operator,
    Type: group.type,
    GroupId: group.id,
    // MsgId per item only on the CN page.
    MsgSeqList: items.map((item) =>
      dialect === 'cn' ? { MsgSeq: item.seq, MsgId: item.msgId } : { MsgSeq: item.seq },
    ),
  };
  if (topicId) {
    body.TopicId = topicId;
  }
  body.EventTime = dialect === 'cn' ? Date.now() : String(Date.now());
  return JSON.stringify(body);
}

export interface MessageFactoryOptions {
  /** Distinct groups the messages spread over. */
  groups?: number;
  seed?: number;
}

/**
 * Realistic `Group.CallbackAfterSendMsg` bodies: every element type in turn (and now and then
 * several in one message or an @mention), over groups of every type, with per-group sequence numbers
 * and Community topics. Each call is a new message; to send a duplicate, send a body again.
 * (`EventFactory` makes every other command too, and recalls of these messages.)
 */
export class MessageFactory {
  private readonly random: Random;
  private readonly groups: SimGroup[];
  private count = 0;

  constructor(options: MessageFactoryOptions = {}) {
    this.random = new Random(options.seed ?? Date.now());
    this.groups = createGroups(this.random, options.groups ?? 20);
  }

  next(): GeneratedMessage {
    const group = this.random.pick(this.groups);
    const { body, identity } = buildGroupMessage(this.random, group, this.random.pick(group.topics), this.count++);
    return { body, identity };
  }
}
