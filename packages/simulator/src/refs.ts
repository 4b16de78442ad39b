import type { GeneratedIdentity, GeneratedMessage } from './messages.js';

// What the archive should hold for each generated event, without its body: light enough to keep
// for every event of a long run, and all `--verify` needs to look it up.
export interface GroupMessageRef {
  readonly kind: 'group-message';
  readonly sdkAppId: string;
  readonly identity: GeneratedIdentity;
}
export interface GroupRecallRef {
  readonly kind: 'group-recall';
  readonly sdkAppId: string;
  readonly groupId: string;
  readonly topicId: string;
  readonly msgSeqs: readonly number[];
  /** Sent before the message it recalls. */
  readonly early: boolean;
}
export interface C2cMessageRef {
  readonly kind: 'c2c-message';
  readonly sdkAppId: string;
  readonly from: string;
  readonly to: string;
  readonly msgKey: string;
  /** The body's SendMsgResult: 0 delivered, else Tencent's error code. */
  readonly sendResult: number;
}
export interface C2cRecallRef {
  readonly kind: 'c2c-recall';
  readonly sdkAppId: string;
  readonly from: string;
  readonly to: string;
  readonly msgKey: string;
  readonly early: boolean;
}
export interface GroupEventRef {
  readonly kind: 'group-event';
  readonly sdkAppId: string;
  readonly command: string;
  /** The catalog's key of the event: `group_events.event_key`. */
  readonly eventKey: string;
}
export type EventRef = GroupMessageRef | GroupRecallRef | C2cMessageRef | C2cRecallRef | GroupEventRef;

/** One callback to send: its command (the query's and the body's), its body, and what it should become. */
export interface GeneratedEvent<TRef extends EventRef = EventRef> {
  readonly command: string;
  readonly body: string;
  readonly ref: TRef;
}

/** A generated group message: usable wherever a `MessageFactory` message is. */
export interface GroupMessageEvent extends GeneratedEvent<GroupMessageRef>, GeneratedMessage {}
