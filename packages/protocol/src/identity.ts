import { hash } from 'node:crypto';
import type { GroupMessage } from './schemas/group-message.js';

/** What makes a group message unique (spec §6). `topicId` is `''` for messages outside a topic. */
export interface MessageIdentity {
  readonly sdkAppId: string;
  readonly groupId: string;
  readonly topicId: string;
  readonly msgSeq: number;
  readonly random: number;
}

export function messageIdentity(sdkAppId: string, message: GroupMessage): MessageIdentity {
  return {
    sdkAppId,
    groupId: message.GroupId,
    topicId: message.TopicId ?? '',
    msgSeq: message.MsgSeq,
    random: message.Random,
  };
}

/**
 * A stable, compact key for an identity: `gm-` and 128 bits of SHA-256 over the fields as a JSON
 * array (unambiguous whatever bytes the ids contain). Safe as a BullMQ job id (no `:`), a Redis
 * key part and a URL path segment, where raw group ids with `#`, `/` or `:` would not be.
 */
export function messageKey(identity: MessageIdentity): string {
  return eventKey('gm', [identity.sdkAppId, identity.groupId, identity.topicId, identity.msgSeq, identity.random]);
}

/**
 * The key of any event: a short kind prefix and 128 bits of SHA-256 over its canonical fields as
 * a JSON array. The kind keeps keys of different events apart even when their fields coincide.
 */
export function eventKey(kind: string, fields: readonly unknown[]): string {
  // One-shot crypto.hash: every accepted callback gets a key, and a Hash object per call costs more.
  return `${kind}-${hash('sha256', JSON.stringify(fields), 'hex').slice(0, 32)}`;
}
