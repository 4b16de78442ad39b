import { randomInt } from 'node:crypto';
import { formatIssues, GroupMessageSchema } from '@imsync/protocol';
import * as v from 'valibot';

/** A `group_msg_get_simple` item as the fake keeps it (Tencent's field names). */
export interface StoredItem {
  readonly MsgSeq: number;
  readonly MsgRandom?: number;
  readonly MsgTimeStamp?: number;
  readonly From_Account?: string;
  readonly MsgBody: readonly unknown[];
  readonly IsPlaceMsg: 0 | 1 | 2;
  readonly MsgPriority?: number;
  readonly IsSystemMsg?: 1;
}

/** One sequence space: a group's own messages (topic `''`) or one topic's. */
interface Stream {
  readonly items: Map<number, StoredItem>;
  /** The highest seq seen, kept or not (an online-only message uses up its seq too). */
  maxSeq: number;
}

interface Group {
  type: string;
  readonly streams: Map<string, Stream>;
}

export interface HistoryQuery {
  readonly groupId: string;
  readonly topicId: string;
  readonly reqMsgSeq: number | undefined;
  readonly reqMsgNumber: number;
  readonly withRecalled: boolean;
}

/** Where a group stands: missing (never seen, or removed) or there with its type. */
export type GroupLookup = { readonly found: false } | { readonly found: true; readonly type: string };

/** Group.CallbackAfterSendMsg priority is not in the callback; Tencent's default is Normal (2). */
const NORMAL_PRIORITY = 2;

/**
 * The history the fake Tencent serves, per (SDKAppID, GroupId, TopicId). What it keeps follows
 * Tencent: no AVChatRoom history and no online-only messages (both still move the seq on).
 */
export function createHistoryStore(now: () => Date) {
  const apps = new Map<string, Map<string, Group>>();
  /** `${sdkAppId}\n${groupId}` of removed groups: they answer 10010 and keep nothing new. */
  const removed = new Set<string>();

  const groupsOf = (sdkAppId: string) => {
    let groups = apps.get(sdkAppId);
    if (groups === undefined) {
      groups = new Map();
      apps.set(sdkAppId, groups);
    }
    return groups;
  };
  const isRemoved = (sdkAppId: string, groupId: string) => removed.has(`${sdkAppId}\n${groupId}`);

  function group(sdkAppId: string, groupId: string): Group | undefined {
    return isRemoved(sdkAppId, groupId) ? undefined : apps.get(sdkAppId)?.get(groupId);
  }

  function existingGroup(sdkAppId: string, groupId: string): Group {
    const found = group(sdkAppId, groupId);
    if (found === undefined) {
      throw new Error(`fake Tencent: no group ${groupId} in app ${sdkAppId} (record a message or set its type first)`);
    }
    return found;
  }

  function stream(g: Group, topicId: string): Stream {
    let s = g.streams.get(topicId);
    if (s === undefined) {
      s = { items: new Map(), maxSeq: -1 };
      g.streams.set(topicId, s);
    }
    return s;
  }

  function groupFor(sdkAppId: string, groupId: string, type: string): Group {
    const groups = groupsOf(sdkAppId);
    let g = groups.get(groupId);
    if (g === undefined) {
      g = { type, streams: new Map() };
      groups.set(groupId, g);
    }
    g.type = type;
    return g;
  }

  function storedItem(sdkAppId: string, groupId: string, topicId: string, seq: number): StoredItem {
    const item = existingGroup(sdkAppId, groupId).streams.get(topicId)?.items.get(seq);
    if (item === undefined) {
      throw new Error(`fake Tencent: no message ${seq} in ${groupId}${topicId ? ` topic ${topicId}` : ''}`);
    }
    return item;
  }

  return {
    /**
     * Keeps a `Group.CallbackAfterSendMsg` body (an object or its JSON text) as the history item
     * Tencent would answer. Returns whether it was kept: not for an AVChatRoom group, an
     * online-only message or a removed group. Throws on a body that is no such callback.
     */
    record(sdkAppId: string, body: unknown): boolean {
      const parsed = v.safeParse(GroupMessageSchema, typeof body === 'string' ? parseJson(body) : body);
      if (!parsed.success) {
        throw new Error(`fake Tencent: not a Group.CallbackAfterSendMsg body (${formatIssues(parsed.issues)})`);
      }
      const message = parsed.output;
      if (isRemoved(sdkAppId, message.GroupId)) {
        return false;
      }
      const s = stream(groupFor(sdkAppId, message.GroupId, message.Type), message.TopicId ?? '');
      s.maxSeq = Math.max(s.maxSeq, message.MsgSeq);
      if (message.Type === 'AVChatRoom' || message.OnlineOnlyFlag === 1) {
        return false;
      }
      const priority = (message as { MsgPriority?: unknown }).MsgPriority;
      s.items.set(message.MsgSeq, {
        From_Account: message.From_Account,
        IsPlaceMsg: 0,
        MsgBody: message.MsgBody,
        MsgPriority: typeof priority === 'number' ? priority : NORMAL_PRIORITY,
        MsgRandom: message.Random,
        MsgSeq: message.MsgSeq,
        MsgTimeStamp: message.MsgTime,
      });
      return true;
    },

    /** A tip (system message) that uses up `msgSeq` in an existing group. */
    recordSystem(sdkAppId: string, groupId: string, topicId: string, msgSeq: number): void {
      const s = stream(existingGroup(sdkAppId, groupId), topicId);
      s.maxSeq = Math.max(s.maxSeq, msgSeq);
      s.items.set(msgSeq, {
        From_Account: '@TIM#SYSTEM',
        IsPlaceMsg: 0,
        IsSystemMsg: 1,
        MsgBody: [],
        MsgPriority: NORMAL_PRIORITY,
        MsgRandom: randomInt(0, 2 ** 32),
        MsgSeq: msgSeq,
        MsgTimeStamp: Math.floor(now().getTime() / 1000),
      });
    },

    /** Recalls kept messages: `IsPlaceMsg` 2, no body; shown only with `WithRecalledMsg` 1. */
    markRecalled(sdkAppId: string, groupId: string, topicId: string, seqs: readonly number[]): void {
      const items = seqs.map((seq) => storedItem(sdkAppId, groupId, topicId, seq));
      const s = stream(existingGroup(sdkAppId, groupId), topicId);
      for (const item of items) {
        s.items.set(item.MsgSeq, { ...item, IsPlaceMsg: 2, MsgBody: [] });
      }
    },

    /**
     * Expires seqs: `IsPlaceMsg` 1 with no body. A seq with nothing kept becomes a bare
     * placeholder (seq only), as for a message past retention whose details are gone too.
     */
    markExpired(sdkAppId: string, groupId: string, topicId: string, seqs: readonly number[]): void {
      const s = stream(existingGroup(sdkAppId, groupId), topicId);
      for (const seq of seqs) {
        const item = s.items.get(seq);
        s.items.set(seq, item ? { ...item, IsPlaceMsg: 1, MsgBody: [] } : { MsgSeq: seq, IsPlaceMsg: 1, MsgBody: [] });
        s.maxSeq = Math.max(s.maxSeq, seq);
      }
    },

    /** Creates the group if need be; an AVChatRoom keeps nothing from then on. */
    setGroupType(sdkAppId: string, groupId: string, type: string): void {
      if (isRemoved(sdkAppId, groupId)) {
        throw new Error(`fake Tencent: group ${groupId} was removed`);
      }
      groupFor(sdkAppId, groupId, type);
    },

    /** Dismisses a group: its history is dropped and every API answers 10010 for it. */
    removeGroup(sdkAppId: string, groupId: string): void {
      apps.get(sdkAppId)?.delete(groupId);
      removed.add(`${sdkAppId}\n${groupId}`);
    },

    lookup(sdkAppId: string, groupId: string): GroupLookup {
      const g = group(sdkAppId, groupId);
      return g === undefined ? { found: false } : { found: true, type: g.type };
    },

    /** The seq the stream's next message would get: the highest seen + 1 (1 for an empty one). */
    nextMsgSeq(sdkAppId: string, groupId: string, topicId: string): number | undefined {
      const g = group(sdkAppId, groupId);
      if (g === undefined) {
        return undefined;
      }
      return Math.max((g.streams.get(topicId)?.maxSeq ?? -1) + 1, 1);
    },

    /** The group's topics (streams other than `''`). */
    topics(sdkAppId: string, groupId: string): string[] {
      return [...(group(sdkAppId, groupId)?.streams.keys() ?? [])].filter((t) => t !== '');
    },

    /**
     * `group_msg_get_simple`'s reading: the seqs from `reqMsgSeq` (the newest when absent) down
     * to `reqMsgSeq − reqMsgNumber + 1`, newest first; a seq with nothing kept is left out, as
     * are recalled messages unless asked for. Undefined for a missing group.
     */
    history(sdkAppId: string, query: HistoryQuery): StoredItem[] | undefined {
      const g = group(sdkAppId, query.groupId);
      if (g === undefined) {
        return undefined;
      }
      const s = g.streams.get(query.topicId);
      if (s === undefined || s.maxSeq < 0) {
        return [];
      }
      const top = query.reqMsgSeq ?? s.maxSeq;
      const items: StoredItem[] = [];
      for (let seq = top; seq > top - query.reqMsgNumber && seq >= 0; seq -= 1) {
        const item = s.items.get(seq);
        if (item !== undefined && (item.IsPlaceMsg !== 2 || query.withRecalled)) {
          items.push(item);
        }
      }
      return items;
    },

    /** For debugging: what is kept, oldest first, per group and stream. */
    dump(sdkAppId: string, groupId?: string) {
      const groups = [...(apps.get(sdkAppId) ?? new Map<string, Group>())].filter(
        ([id]) => groupId === undefined || id === groupId,
      );
      return groups.map(([id, g]) => ({
        groupId: id,
        type: g.type,
        streams: [...g.streams].map(([topicId, s]) => ({
          topicId,
          nextMsgSeq: Math.max(s.maxSeq + 1, 1),
          items: [...s.items.values()].sort((a, b) => a.MsgSeq - b.MsgSeq),
        })),
      }));
    },
  };
}

export type HistoryStore = ReturnType<typeof createHistoryStore>;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('fake Tencent: the body is not JSON');
  }
}
