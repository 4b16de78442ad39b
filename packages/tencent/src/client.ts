import { randomInt } from 'node:crypto';
import { formatIssues } from '@imsync/protocol';
import * as v from 'valibot';
import { EnvelopeSchema, failure, readGroupInfo, readHistory, readTopicInfo } from './answers.js';
import type { TencentApi, TencentResult } from './api.js';
import { NO_TENCENT_CODE, redact } from './errors.js';
import { genUserSig } from './usersig.js';

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
    if (!answer.ok) {
      return answer;
    }
    const result = read(answer.value);
    // A group's or topic's own ErrorInfo is Tencent's text too: the same care as the envelope's.
    return result.ok ? result : { ...result, info: redact(result.info, [cached?.token ?? '', options.secretKey]) };
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
