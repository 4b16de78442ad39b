import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyUserSig } from '../usersig.js';
import { createFakeApis, type FakeTencentApi, fail, type Reply } from './apis.js';
import { createHistoryStore } from './store.js';
import { createThrottle, type ThrottleOptions } from './throttle.js';

export interface FakeTencentOptions {
  /** SDKAppID → secret key, for each app the fake plays. */
  readonly apps: Readonly<Record<string, string>>;
  /** The app admin every call must be made as; `administrator` unless given. */
  readonly adminIdentifier?: string;
  /** 127.0.0.1 unless given. */
  readonly host?: string;
  /** Any free port unless given. */
  readonly port?: number;
  /** UserSig expiry, the rate limit and tips' times; the system clock unless given. */
  readonly clock?: () => Date;
  /**
   * A `group_msg_get_simple` page is cut short (`IsFinished` 0) before its items' JSON passes
   * this many bytes, as Tencent cuts pages of long messages; 1 MiB (Tencent's answer cap) unless given.
   */
  readonly maxPageBytes?: number;
}

/** A fake of Tencent's REST API over real HTTP, for tests and `pnpm start --fake-tencent`. */
export interface FakeTencent {
  /** `http://127.0.0.1:<port>`: the base URL for createTencentApi. */
  readonly url: string;
  /**
   * Keeps a `Group.CallbackAfterSendMsg` body (object or JSON text) exactly as a callback carries
   * it, as the history item Tencent would return (MsgRandom = Random, MsgTimeStamp = MsgTime,
   * IsPlaceMsg 0, MsgPriority 2 unless the body has one). Returns false when Tencent would keep
   * nothing: an AVChatRoom group, an online-only message (`OnlineOnlyFlag` 1), a removed group;
   * the seq still counts for NextMsgSeq unless the group was removed. Throws on another body.
   * `POST /fake/record` with `{ "sdkAppId", "body" }` does the same from another process.
   */
  record(sdkAppId: string, body: unknown): boolean;
  /** A tip (`IsSystemMsg` 1, no body) that uses up `msgSeq`; `topicId` `''` for the group's own. */
  recordSystem(sdkAppId: string, groupId: string, topicId: string, msgSeq: number): void;
  /** Kept messages become recalled placeholders (`IsPlaceMsg` 2, no body). */
  markRecalled(sdkAppId: string, groupId: string, topicId: string, ...seqs: number[]): void;
  /** Seqs become expired placeholders (`IsPlaceMsg` 1, no body), kept or not before. */
  markExpired(sdkAppId: string, groupId: string, topicId: string, ...seqs: number[]): void;
  /** Sets (or creates) a group with this type (`Public`, `Community`, `AVChatRoom`…). */
  setGroupType(sdkAppId: string, groupId: string, type: string): void;
  /** Dismisses a group: every API answers 10010 for it from now on. */
  removeGroup(sdkAppId: string, groupId: string): void;
  /** Refuses calls as over the rate limit (60018 unless another code is given); no argument lifts it. */
  throttle(options?: ThrottleOptions): void;
  /** Calls received by one API (or all), whatever was answered. */
  calls(api?: FakeTencentApi): number;
  close(): Promise<void>;
}

const ROUTES: Readonly<Record<string, FakeTencentApi>> = {
  '/v4/group_open_http_svc/group_msg_get_simple': 'group_msg_get_simple',
  '/v4/group_open_http_svc/get_group_info': 'get_group_info',
  '/v4/million_group_open_http_svc/get_topic': 'get_topic',
};

const MAX_REQUEST_BYTES = 1024 * 1024;
const DEFAULT_MAX_PAGE_BYTES = 1024 * 1024;

/**
 * Starts the fake on 127.0.0.1. It answers the way Tencent does: HTTP 200 always, the outcome in
 * `ActionStatus`/`ErrorCode`/`ErrorInfo`. Every call is checked first: a known `sdkappid` (70020),
 * `random` a uint32 and `contenttype=json` (60002), a `usersig` made with that app's key (70009;
 * 70014 another app's; 70001 expired by the fake's clock), for the `identifier` in the URL
 * (70013) who is the configured admin (60010). Then the throttle (60018), then the body (60003 not
 * JSON, 10004 bad fields). A group never seen or removed answers 10010.
 *
 * History follows Tencent's rules: nothing is kept for AVChatRoom groups (10004 if asked) or
 * online-only messages, a page covers seqs `ReqMsgSeq − ReqMsgNumber + 1 … ReqMsgSeq` newest
 * first (a seq with nothing kept is left out), `ReqMsgNumber` over 20 is 10004. Each topic has
 * its own stream and NextMsgSeq (get_topic); get_group_info's NextMsgSeq is the group's own stream.
 * It never answers `IsFinished` 2.
 */
export async function startFakeTencent(options: FakeTencentOptions): Promise<FakeTencent> {
  const clock = options.clock ?? (() => new Date());
  const admin = options.adminIdentifier ?? 'administrator';
  const maxPageBytes = options.maxPageBytes ?? DEFAULT_MAX_PAGE_BYTES;
  const store = createHistoryStore(clock);
  const apis = createFakeApis(store, maxPageBytes);
  const throttle = createThrottle(clock);
  const counts = new Map<FakeTencentApi, number>();
  const keyOf = (sdkAppId: string) => (Object.hasOwn(options.apps, sdkAppId) ? options.apps[sdkAppId] : undefined);

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        sendJson(response, 500, { error: error instanceof Error ? error.message : String(error) });
      } else {
        response.destroy();
      }
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const body = await readBody(request);
    if (body === undefined) {
      sendJson(response, 413, { error: 'request body too large' });
      return;
    }
    if (url.pathname === '/fake/record' && request.method === 'POST') {
      recordRoute(body, response);
      return;
    }
    if (url.pathname === '/fake/history' && request.method === 'GET') {
      const sdkAppId = url.searchParams.get('sdkAppId') ?? '';
      sendJson(response, 200, { groups: store.dump(sdkAppId, url.searchParams.get('groupId') ?? undefined) });
      return;
    }
    if (!url.pathname.startsWith('/v4/')) {
      sendJson(response, 404, { error: 'not found' });
      return;
    }
    const api = ROUTES[url.pathname];
    if (api === undefined || request.method !== 'POST') {
      sendJson(response, 200, fail(60009, 'request resource error: check the request URL'));
      return;
    }
    counts.set(api, (counts.get(api) ?? 0) + 1);
    sendJson(response, 200, answer(api, url.searchParams, body));
  }

  function recordRoute(body: string, response: ServerResponse): void {
    try {
      const input = JSON.parse(body) as { sdkAppId?: unknown; body?: unknown };
      if (typeof input.sdkAppId !== 'string' || keyOf(input.sdkAppId) === undefined) {
        throw new Error("sdkAppId must be one of the fake's apps");
      }
      sendJson(response, 200, { kept: store.record(input.sdkAppId, input.body) });
    } catch (error) {
      sendJson(response, 400, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Checks the call (URL, signature, throttle, body) and runs it. */
  function answer(api: FakeTencentApi, query: URLSearchParams, body: string): Reply {
    const sdkAppId = query.get('sdkappid');
    if (sdkAppId === null || sdkAppId === '') {
      return fail(60012, 'the request URL must carry the SDKAppID');
    }
    const secretKey = keyOf(sdkAppId);
    if (secretKey === undefined) {
      return fail(70020, 'SDKAppID not found: check it and the data centre you call');
    }
    if (!/^\d{1,10}$/.test(query.get('random') ?? '') || Number(query.get('random')) > 4_294_967_295) {
      return fail(60002, 'HTTP parse error: random must be a 32-bit unsigned integer');
    }
    if (query.get('contenttype') !== 'json') {
      return fail(60002, 'HTTP parse error: contenttype must be json');
    }
    const identifier = query.get('identifier');
    const userSig = query.get('usersig');
    if (!identifier || !userSig) {
      return fail(60004, 'identifier and usersig are required');
    }
    const verdict = verifyUserSig(userSig, { sdkAppId, secretKey, now: clock() });
    if (!verdict.ok) {
      if (verdict.reason === 'expired') {
        return fail(70001, 'UserSig expired: generate a new one');
      }
      return verdict.reason === 'wrong_app'
        ? fail(70014, 'the SDKAppID in the request differs from the one in the UserSig')
        : fail(70009, 'UserSig verification failed');
    }
    if (verdict.identifier !== identifier) {
      return fail(70013, 'the identifier in the request differs from the one in the UserSig');
    }
    if (identifier !== admin) {
      return fail(60010, 'the request needs the app admin');
    }
    const refusal = throttle.check();
    if (refusal !== undefined) {
      return fail(refusal, 'requests too frequent: retry later');
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return fail(60003, 'HTTP request JSON parse error');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      return fail(60003, 'HTTP request JSON parse error: the body must be an object');
    }
    return apis[api](sdkAppId, json);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;

  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    record: (sdkAppId, body) => {
      if (keyOf(sdkAppId) === undefined) {
        throw new Error(`fake Tencent: app ${sdkAppId} is not one of its apps`);
      }
      return store.record(sdkAppId, body);
    },
    recordSystem: (sdkAppId, groupId, topicId, msgSeq) => store.recordSystem(sdkAppId, groupId, topicId, msgSeq),
    markRecalled: (sdkAppId, groupId, topicId, ...seqs) => store.markRecalled(sdkAppId, groupId, topicId, seqs),
    markExpired: (sdkAppId, groupId, topicId, ...seqs) => store.markExpired(sdkAppId, groupId, topicId, seqs),
    setGroupType: (sdkAppId, groupId, type) => store.setGroupType(sdkAppId, groupId, type),
    removeGroup: (sdkAppId, groupId) => store.removeGroup(sdkAppId, groupId),
    throttle: (throttleOptions) => throttle.set(throttleOptions),
    calls: (api) => (api === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : (counts.get(api) ?? 0)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_REQUEST_BYTES) {
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
