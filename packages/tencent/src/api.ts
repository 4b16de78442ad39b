import type { TencentErrorKind } from './errors.js';

/** An answer, or why there is none. Calls never throw for what Tencent or the network does. */
export type TencentResult<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      /** Tencent's `ErrorCode`, or NO_TENCENT_CODE (-1) when no answer from Tencent was read. */
      readonly code: number;
      /** Tencent's `ErrorInfo`, or what went wrong; never holds the UserSig or the secret key. */
      readonly info: string;
      readonly kind: TencentErrorKind;
    };

/** One `RspMsgList` item of `group_msg_get_simple`. */
export interface HistoryItem {
  readonly msgSeq: number;
  /** The message's `Random` in callbacks; 0 when a placeholder or tip comes without one. */
  readonly msgRandom: number;
  /** Server time of the send, in seconds; 0 when a placeholder or tip comes without one. */
  readonly msgTimeStamp: number;
  /** The sender; `''` when a placeholder or tip comes without one. */
  readonly fromAccount: string;
  /** The elements as sent (not validated here); empty for placeholders. */
  readonly msgBody: readonly unknown[];
  /** 0 a message; 1 expired, deleted or never stored (no body); 2 recalled. */
  readonly isPlaceMsg: 0 | 1 | 2;
  /** A tip (system message): it uses up a seq but is no member's message. */
  readonly isSystemMsg: boolean;
  /** The item exactly as Tencent sent it, unknown fields included. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface HistoryPage {
  /** Newest first, as Tencent sends them. A seq of the range may be missing (nothing stored for it). */
  readonly items: readonly HistoryItem[];
  /**
   * 1: the whole range asked for was returned. 0: cut short (messages too large); ask again
   * from the smallest returned seq − 1. 2: like 0, and everything in the range has expired.
   */
  readonly isFinished: 0 | 1 | 2;
}

export interface GroupHistoryRequest {
  readonly groupId: string;
  /** A topic of a topic-enabled Community; absent or `''` for the group's own messages. */
  readonly topicId?: string;
  /** The newest seq wanted; the newest message when absent. */
  readonly reqMsgSeq?: number;
  /** Seqs wanted, 1 to 20 (Tencent's maximum). */
  readonly reqMsgNumber: number;
  /** Include recalled messages, as `IsPlaceMsg` 2 placeholders. */
  readonly withRecalled: boolean;
}

/** Tencent's REST API as the app admin: the calls backfill needs. */
export interface TencentApi {
  /**
   * `group_msg_get_simple`: the messages with seq ≤ `reqMsgSeq` (the newest when absent), newest
   * first, at most `reqMsgNumber`. To walk a range down: after a page with `isFinished` 1, go on
   * from min(smallest returned seq, reqMsgSeq − reqMsgNumber + 1) − 1 (a seq with nothing stored
   * may be missing, a page may even be empty); after 0 or 2, from the smallest returned seq − 1.
   * Not for AVChatRoom groups (Tencent keeps no history for them). Rejects (RangeError) only on a
   * request that cannot be right: `reqMsgNumber` outside 1..20, `reqMsgSeq` not a uint32.
   */
  groupHistory(request: GroupHistoryRequest): Promise<TencentResult<HistoryPage>>;
  /** `get_group_info`: the group's type (`Public`, `Community`, `AVChatRoom`…) and the seq its next message will get. */
  groupInfo(groupId: string): Promise<TencentResult<{ readonly type: string; readonly nextMsgSeq: number }>>;
  /** `get_topic`: the seq a topic's next message will get (each topic numbers its own). */
  topicInfo(groupId: string, topicId: string): Promise<TencentResult<{ readonly nextMsgSeq: number }>>;
}
