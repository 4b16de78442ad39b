import { randomInt } from 'node:crypto';
import { formatIssues } from '@imsync/protocol';
import * as v from 'valibot';
import { classifyErrorCode, NO_TENCENT_CODE, redact, type TencentErrorKind } from './errors.js';
import {
  EnvelopeSchema,
  GroupInfoResponseSchema,
  HistoryItemSchema,
  HistoryResponseSchema,
  TopicResponseSchema,
} from './schemas.js';
import { genUserSig } from './usersig.js';

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

const DEFAULT_TENCENT_TIMEOUT_MS = 10_000;
const DEFAULT_USERSIG_LIFETIME_SECONDS = 86_400;
/** A UserSig is replaced once this share of its lifetime has passed, well before Tencent refuses it. */
const RENEW_AT_SHARE = 0.8;
/** Tencent caps an answer at 1 MB (error 10018); twice that is no answer of Tencent's. */
const MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
const MAX_REQ_MSG_NUMBER = 20;
/** How much of an unexpected body a failure quotes. */
const EXCERPT_CHARS = 200;

export interface TencentApiOptions {
  /** `https://console.tim.qq.com` or the region's host (TENCENT_API_BASE_URLS); http is allowed (the fake). */
  readonly baseUrl: string;
  readonly sdkAppId: string;
  /** The app admin account the calls are made as. */
  readonly adminIdentifier: string;
  /** The app's key; signs the admin's UserSig and is never sent. */
  readonly secretKey: string;
  /** For a whole call: connecting, sending, and reading the answer. */
  readonly timeoutMs?: number;
  /** Lifetime of each UserSig made; it is replaced after 80 % of it. */
  readonly userSigLifetimeSeconds?: number;
  /** Node's global fetch unless given (undici's, for a dispatcher of its own). */
  readonly fetch?: typeof fetch;
  /** The UserSig's time; the system clock unless given. */
  readonly clock?: () => Date;
}

/** Why the call's own controller aborted. */
class CallTimeout extends Error {
  override readonly name = 'CallTimeout';
}

type Failure = Extract<TencentResult<never>, { ok: false }>;

function failure(code: number, info: string, kind: TencentErrorKind = classifyErrorCode(code)): Failure {
  return { ok: false, code, info, kind };
}

/**
 * A client of Tencent's REST API signed in as the app admin. It makes its UserSig itself, keeps
 * it, and makes a new one after 80 % of its lifetime or when Tencent says it expired (70001: the
 * call is then tried once more with the new one). Every call answers a TencentResult; nothing is
 * logged, and no failure's text holds the UserSig or the secret key. Throws at creation on a bad
 * base URL or option.
 */
export function createTencentApi(options: TencentApiOptions): TencentApi {
  const base = new URL(options.baseUrl);
  if ((base.protocol !== 'http:' && base.protocol !== 'https:') || base.username !== '' || base.password !== '') {
    throw new Error('the Tencent API base URL must be http(s), without credentials');
  }
  const baseUrl = `${base.origin}${base.pathname}`.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TENCENT_TIMEOUT_MS;
  const lifetime = options.userSigLifetimeSeconds ?? DEFAULT_USERSIG_LIFETIME_SECONDS;
  if (!Number.isSafeInteger(lifetime) || lifetime < 1) {
    throw new Error('userSigLifetimeSeconds must be a positive integer');
  }
  const doFetch = options.fetch ?? fetch;
  const clock = options.clock ?? (() => new Date());
  // Fails now, not at the first call, on an SDKAppID that cannot be signed.
  genUserSig({ ...userSigInput(), now: clock() });

  function userSigInput() {
    return {
      sdkAppId: options.sdkAppId,
      secretKey: options.secretKey,
      identifier: options.adminIdentifier,
      expireSeconds: lifetime,
    };
  }

  let cached: { token: string; madeAt: number; renewAt: number } | undefined;
  function userSig(renew: boolean): string {
    const now = clock();
    const ms = now.getTime();
    if (renew || cached === undefined || ms >= cached.renewAt || ms < cached.madeAt) {
      const madeAt = Math.floor(ms / 1000) * 1000;
      cached = {
        token: genUserSig({ ...userSigInput(), now }),
        madeAt,
        renewAt: madeAt + lifetime * RENEW_AT_SHARE * 1000,
      };
    }
    return cached.token;
  }

  /** One POST; an answer whose envelope says OK, or a failure. */
  async function post(command: string, body: unknown, renewUserSig: boolean): Promise<TencentResult<unknown>> {
    const token = userSig(renewUserSig);
    const secrets = [token, options.secretKey];
    const query = new URLSearchParams({
      sdkappid: options.sdkAppId,
      identifier: options.adminIdentifier,
      usersig: token,
      random: String(randomInt(0, 2 ** 32)),
      contenttype: 'json',
    });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new CallTimeout()), timeoutMs);
    let text: string;
    let status: number;
    try {
      const response = await doFetch(`${baseUrl}/v4/${command}?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'imsync' },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: controller.signal,
      });
      status = response.status;
      const read = await readCapped(response, MAX_RESPONSE_BYTES);
      if (read === undefined) {
        return failure(NO_TENCENT_CODE, `the answer is over ${MAX_RESPONSE_BYTES} bytes`, 'fatal');
      }
      text = read;
    } catch (error) {
      if (controller.signal.reason instanceof CallTimeout) {
        return failure(NO_TENCENT_CODE, `no answer within ${timeoutMs} ms`, 'retry');
      }
      return failure(NO_TENCENT_CODE, redact(`network error: ${errorText(error)}`, secrets), 'retry');
    } finally {
      clearTimeout(timer);
    }
    const excerpt = () => redact(text.slice(0, EXCERPT_CHARS).replace(/\s+/g, ' ').trim(), secrets);
    if (status !== 200) {
      // Tencent answers 200 unless the network between failed: anything else is a proxy's or a
      // load balancer's word.
      const kind = status === 429 ? 'throttled' : status >= 500 ? 'retry' : 'fatal';
      return failure(NO_TENCENT_CODE, `HTTP ${status}: ${excerpt()}`, kind);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // A captive portal or a proxy's page; it may well be gone next time.
      return failure(NO_TENCENT_CODE, `the answer is not JSON: ${excerpt()}`, 'retry');
    }
    const envelope = v.safeParse(EnvelopeSchema, json);
    if (!envelope.success) {
      return failure(NO_TENCENT_CODE, `not a Tencent answer (${formatIssues(envelope.issues)})`, 'fatal');
    }
    const { ActionStatus, ErrorCode, ErrorInfo } = envelope.output;
    if (ErrorCode !== 0 || ActionStatus !== 'OK') {
      const code = ErrorCode !== 0 ? ErrorCode : NO_TENCENT_CODE;
      return failure(code, redact(ErrorInfo || `ActionStatus ${ActionStatus}`, secrets));
    }
    return { ok: true, value: json };
  }

  /** `post`, once more with a new UserSig if Tencent says this one expired. */
  async function call<T>(
    command: string,
    body: unknown,
    read: (json: unknown) => TencentResult<T>,
  ): Promise<TencentResult<T>> {
    let answer = await post(command, body, false);
    if (!answer.ok && answer.code === 70001) {
      answer = await post(command, body, true);
    }
    return answer.ok ? read(answer.value) : answer;
  }

  return {
    groupHistory(request) {
      const { groupId, topicId, reqMsgSeq, reqMsgNumber, withRecalled } = request;
      if (!Number.isInteger(reqMsgNumber) || reqMsgNumber < 1 || reqMsgNumber > MAX_REQ_MSG_NUMBER) {
        return Promise.reject(new RangeError(`reqMsgNumber must be 1 to ${MAX_REQ_MSG_NUMBER}`));
      }
      if (reqMsgSeq !== undefined && (!Number.isInteger(reqMsgSeq) || reqMsgSeq < 0 || reqMsgSeq > 4_294_967_295)) {
        return Promise.reject(new RangeError('reqMsgSeq must be a uint32'));
      }
      const body = {
        GroupId: groupId,
        ...(topicId ? { TopicId: topicId } : {}),
        ...(reqMsgSeq === undefined ? {} : { ReqMsgSeq: reqMsgSeq }),
        ReqMsgNumber: reqMsgNumber,
        WithRecalledMsg: withRecalled ? 1 : 0,
      };
      return call('group_open_http_svc/group_msg_get_simple', body, readHistory);
    },
    groupInfo(groupId) {
      const body = { GroupIdList: [groupId], ResponseFilter: { GroupBaseInfoFilter: ['Type', 'NextMsgSeq'] } };
      return call('group_open_http_svc/get_group_info', body, (json) => readGroupInfo(json, groupId));
    },
    topicInfo(groupId, topicId) {
      // From_Account is required by the docs: whose SelfInfo to add. The admin's is as good as any.
      const body = { GroupId: groupId, From_Account: options.adminIdentifier, TopicIdList: [topicId] };
      return call('million_group_open_http_svc/get_topic', body, (json) => readTopicInfo(json, topicId));
    },
  };
}

function readHistory(json: unknown): TencentResult<HistoryPage> {
  const page = v.safeParse(HistoryResponseSchema, json);
  if (!page.success) {
    return failure(NO_TENCENT_CODE, `unexpected history answer (${formatIssues(page.issues)})`, 'fatal');
  }
  const items: HistoryItem[] = [];
  for (const [index, raw] of page.output.RspMsgList.entries()) {
    const item = v.safeParse(HistoryItemSchema, raw);
    if (!item.success) {
      return failure(NO_TENCENT_CODE, `unexpected RspMsgList[${index}] (${formatIssues(item.issues)})`, 'fatal');
    }
    const { MsgSeq, MsgRandom, MsgTimeStamp, From_Account, MsgBody, IsPlaceMsg, IsSystemMsg } = item.output;
    items.push({
      msgSeq: MsgSeq,
      msgRandom: MsgRandom ?? 0,
      msgTimeStamp: MsgTimeStamp ?? 0,
      fromAccount: From_Account ?? '',
      msgBody: MsgBody ?? [],
      isPlaceMsg: IsPlaceMsg,
      isSystemMsg: IsSystemMsg === 1,
      raw: raw as Record<string, unknown>,
    });
  }
  return { ok: true, value: { items, isFinished: page.output.IsFinished } };
}

function readGroupInfo(json: unknown, groupId: string): TencentResult<{ type: string; nextMsgSeq: number }> {
  const answer = v.safeParse(GroupInfoResponseSchema, json);
  if (!answer.success) {
    return failure(NO_TENCENT_CODE, `unexpected group info answer (${formatIssues(answer.issues)})`, 'fatal');
  }
  const list = answer.output.GroupInfo;
  const group = list.find((g) => g.GroupId === groupId) ?? (list.length === 1 ? list[0] : undefined);
  if (group === undefined) {
    return failure(NO_TENCENT_CODE, 'the answer has no GroupInfo for this group', 'fatal');
  }
  if (group.ErrorCode !== 0) {
    return failure(group.ErrorCode, group.ErrorInfo);
  }
  if (group.Type === undefined || group.NextMsgSeq === undefined) {
    return failure(NO_TENCENT_CODE, 'the group info lacks Type or NextMsgSeq', 'fatal');
  }
  return { ok: true, value: { type: group.Type, nextMsgSeq: group.NextMsgSeq } };
}

function readTopicInfo(json: unknown, topicId: string): TencentResult<{ nextMsgSeq: number }> {
  const answer = v.safeParse(TopicResponseSchema, json);
  if (!answer.success) {
    return failure(NO_TENCENT_CODE, `unexpected topic answer (${formatIssues(answer.issues)})`, 'fatal');
  }
  const list = answer.output.TopicAndSelfInfo;
  const entry = list.find((t) => t.TopicInfo?.TopicId === topicId) ?? (list.length === 1 ? list[0] : undefined);
  if (entry === undefined) {
    return failure(NO_TENCENT_CODE, 'the answer has no TopicAndSelfInfo for this topic', 'fatal');
  }
  if (entry.ErrorCode !== 0) {
    return failure(entry.ErrorCode, entry.ErrorInfo);
  }
  const nextMsgSeq = entry.TopicInfo?.NextMsgSeq;
  if (nextMsgSeq === undefined) {
    return failure(NO_TENCENT_CODE, 'the topic info lacks NextMsgSeq', 'fatal');
  }
  return { ok: true, value: { nextMsgSeq } };
}

/** The body as text, or undefined past `cap` bytes (the rest is cancelled unread). */
async function readCapped(response: Response, cap: number): Promise<string | undefined> {
  if (!response.body) {
    return '';
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      return new TextDecoder().decode(Buffer.concat(chunks));
    }
    size += value.byteLength;
    if (size > cap) {
      // Not awaited: a body that never ends must not hold the call.
      reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
}

/** fetch's "fetch failed" says nothing: the cause has the code (ECONNREFUSED, ENOTFOUND, …). */
function errorText(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const message = cause.message || cause.name;
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return error.message;
}
