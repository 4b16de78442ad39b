import { GROUP_AFTER_SEND_MSG } from '@imsync/protocol';
import { ELEMENT_BUILDERS, ELEMENT_TYPES } from './elements.js';
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

interface Group {
  id: string;
  type: string;
  topics: string[];
  seq: number;
}

const GROUP_TYPES = ['Public', 'Private', 'ChatRoom', 'AVChatRoom', 'Community'];
const USERS = ['lin.wei', 'amara_k', 'mei.chen', 'u_48213', 'host_rina', 'viewer_3391'];

export interface MessageFactoryOptions {
  /** Distinct groups the messages spread over. */
  groups?: number;
  seed?: number;
}

/**
 * Realistic `Group.CallbackAfterSendMsg` bodies: every element type in turn (and now and then
 * several in one message or an @mention), over groups of every type, with per-group sequence numbers
 * and Community topics. Each call is a new message; to send a duplicate, send a body again.
 */
export class MessageFactory {
  private readonly random: Random;
  private readonly groups: Group[];
  private count = 0;

  constructor(options: MessageFactoryOptions = {}) {
    this.random = new Random(options.seed ?? Date.now());
    const r = this.random;
    this.groups = Array.from({ length: options.groups ?? 20 }, (_, i) => {
      const type = GROUP_TYPES[i % GROUP_TYPES.length] as string;
      const id = type === 'Community' ? `@TGS#_@TGS#c${r.hex(10).toUpperCase()}` : `@TGS#${r.hex(9).toUpperCase()}`;
      const topics = type === 'Community' ? ['', `${id}@TOPIC#_general`, `${id}@TOPIC#_release-notes`] : [''];
      return { id, type, topics, seq: r.int(1, 1_000_000) };
    });
  }

  next(): GeneratedMessage {
    const r = this.random;
    const group = r.pick(this.groups);
    const topicId = r.pick(group.topics);
    const from = r.pick(USERS);
    const elementType = ELEMENT_TYPES[this.count++ % ELEMENT_TYPES.length] as string;
    const elements = [(ELEMENT_BUILDERS[elementType] as (random: Random) => unknown)(r)];
    if (r.next() < 0.05) {
      elements.push((ELEMENT_BUILDERS.TIMFaceElem as (random: Random) => unknown)(r));
    }
    const now = Math.floor(Date.now() / 1000);
    const msgSeq = group.seq++;
    const random = r.uint32();
    const body: Record<string, unknown> = {
      CallbackCommand: GROUP_AFTER_SEND_MSG,
      GroupId: group.id,
      Type: group.type,
      From_Account: from,
      Operator_Account: r.next() < 0.05 ? 'administrator' : from,
      Random: random,
      MsgSeq: msgSeq,
      MsgId: `${r.int(1e17, 9e17)}-${now}-${random}`,
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
    return { body: JSON.stringify(body), identity: { groupId: group.id, topicId, msgSeq, random } };
  }
}
