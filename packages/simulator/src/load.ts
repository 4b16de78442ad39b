import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type AppTokens, signedCallbackUrl } from '@imsync/protocol';
import { Pool } from 'undici';
import { EventFactory, type EventFactoryOptions } from './events.js';
import type { SentMessage } from './messages.js';
import { Random } from './random.js';
import type { EventRef, GeneratedEvent, GroupMessageEvent } from './refs.js';
import { type LatencySummary, summarizeLatencies } from './stats.js';
import { createWithholder } from './withhold.js';

export interface LoadOptions<TEvent extends GeneratedEvent = GeneratedEvent>
  extends Pick<EventFactoryOptions, 'commands' | 'recallRatio' | 'earlyRecallRatio'> {
  /** The receiver's callback URL, without query. */
  url: string;
  /** The app to send as, unless `apps` lists several. */
  sdkAppId?: string;
  /** Signs every request of `sdkAppId` like the IM backend does when callback authentication is on. */
  token?: string;
  /**
   * Several apps, as `TIM_APPS` lists them: each new event goes to one, signed with one of its
   * tokens (unsigned if it has none). Instead of `sdkAppId` and `token`.
   */
  apps?: AppTokens;
  /** Callbacks to send (new ones; duplicates come on top). */
  count: number;
  /** Sends per second, scheduled on a clock (open loop); 0 sends as fast as `concurrency` allows. */
  rate: number;
  /** Requests in flight at most. */
  concurrency: number;
  /** Share of sends that repeat an earlier message, byte for byte (0–1). */
  duplicateRatio?: number;
  groups?: number;
  seed?: number;
  /** A request not answered within this is counted as failed. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Share (0–1) of droppable group messages withheld: recorded (`record`) but never sent, as if
   * Tencent's callback had been lost. Droppable: what backfill can recover (see createWithholder).
   */
  drop?: number;
  /** Droppable group messages among the last `dropTail` new callbacks are withheld too (a silent tail). */
  dropTail?: number;
  /**
   * Keeps every new group message, sent or withheld, where Tencent keeps its history (the fake
   * Tencent API): called before the message is sent.
   */
  record?(sdkAppId: string, body: string): Promise<void>;
  onWithheld?(event: GeneratedEvent): void;
  // A method, so its parameter is checked bivariantly: the runner below has one body for both overloads.
  onResult?(result: SendResult<TEvent>): void;
}

export interface SendResult<TEvent extends GeneratedEvent = GeneratedEvent> {
  /** The callback sent (a group message unless `commands` said otherwise). */
  readonly message: TEvent;
  readonly duplicate: boolean;
  /** HTTP status, or 0 when the request failed without an answer. */
  readonly status: number;
  /** From the time the send was scheduled (so client-side queueing counts), in ms. */
  readonly latencyMs: number;
  /** From the request's dispatch to its answer (the server's part, without client-side queueing), in ms. */
  readonly answerMs: number;
  readonly error?: string;
}

export interface LoadSummary {
  sent: number;
  duplicatesSent: number;
  acknowledged: number;
  /** 4xx answers, by status. */
  rejected: Record<string, number>;
  /** 5xx answers and requests without an answer. */
  failed: number;
  errors: Record<string, number>;
  /** Sends that could not go out on time because `concurrency` requests were already in flight. */
  lateSends: number;
  latency: LatencySummary;
  /** The longest this process's own event loop was held up, ms: a late client inflates latency. */
  clientStallMs: number;
  elapsedMs: number;
  /** New callbacks sent, by command (repeats not counted). */
  sentByCommand: Record<string, number>;
  /** Recalls sent before the message they recall, by command. */
  earlyRecalls: Record<string, number>;
  /** Events (not sends) of every app and command that got at least one 200. */
  acknowledgedEvents: EventRef[];
  /** Every event sent at least once, answered or not. */
  sentEvents: EventRef[];
  /** Group messages withheld on purpose (`drop`, `dropTail`): only backfill can bring them. */
  withheldEvents: EventRef[];
  /** `record` calls that failed: those messages are not in the history backfill reads. */
  recordFailures: number;
  /** The group messages among `acknowledgedEvents` (of every app). */
  acknowledgedMessages: SentMessage[];
  /** The group messages among `sentEvents`. */
  sentMessages: SentMessage[];
}

/**
 * Plays the IM backend: posts generated callbacks at a fixed rate (open loop: a slow answer
 * does not delay the next send, up to `concurrency` in flight) and counts what came back.
 */
const RECENT = 10_000;

export function runLoad(options: LoadOptions<GroupMessageEvent> & { commands?: undefined }): Promise<LoadSummary>;
export function runLoad(options: LoadOptions): Promise<LoadSummary>;
export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const seed = options.seed ?? Date.now();
  const apps = appsOf(options);
  const factory = new EventFactory({
    apps: [...apps.keys()],
    commands: options.commands,
    groups: options.groups,
    seed,
    recallRatio: options.recallRatio,
    earlyRecallRatio: options.earlyRecallRatio,
  });
  const chance = new Random(seed ^ 0x5eed);
  // undici: Node's own HTTP client library, much lighter per request than node:http, so the
  // client's cost does not crowd out the server it measures on a small machine.
  const pool = new Pool(new URL(options.url).origin, { connections: options.concurrency, pipelining: 1 });
  const duplicateRatio = options.duplicateRatio ?? 0;
  // Only identities are kept for the summary: a long run keeping every body would spend its time in
  // garbage collection, and a client pausing for that would show up as the server's latency.
  const sent: EventRef[] = [];
  const acknowledged = new Set<EventRef>();
  // Repeats are drawn from the most recent events, kept with their bodies.
  const recent: GeneratedEvent[] = [];
  const latencies: number[] = [];
  const summary: LoadSummary = {
    sent: 0,
    duplicatesSent: 0,
    acknowledged: 0,
    rejected: {},
    failed: 0,
    errors: {},
    lateSends: 0,
    latency: summarizeLatencies([]),
    clientStallMs: 0,
    elapsedMs: 0,
    sentByCommand: {},
    earlyRecalls: {},
    acknowledgedEvents: [],
    sentEvents: [],
    withheldEvents: [],
    recordFailures: 0,
    acknowledgedMessages: [],
    sentMessages: [],
  };
  const signer = createSigner(options.url, apps, chance);
  const withhold = createWithholder(
    { drop: options.drop ?? 0, tail: options.dropTail ?? 0, count: options.count },
    new Random(seed ^ 0xd409),
  );
  const withheld: EventRef[] = [];
  const record = (message: GeneratedEvent) => {
    if (!options.record || message.ref.kind !== 'group-message') {
      return;
    }
    const done: Promise<void> = options.record(message.ref.sdkAppId, message.body).then(
      () => {
        pending.delete(done);
      },
      (error: unknown) => {
        summary.recordFailures++;
        const key = `record: ${(error as Error).message}`;
        summary.errors[key] = (summary.errors[key] ?? 0) + 1;
        pending.delete(done);
      },
    );
    pending.add(done);
  };
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  const pending = new Set<Promise<void>>();

  const fire = (message: GeneratedEvent, duplicate: boolean, scheduledAt: number) => {
    inFlight++;
    const url = signer(message.ref.sdkAppId, message.command);
    const dispatchedAt = performance.now();
    const done = post(pool, url, message.body, options.timeoutMs ?? 5000).then(({ status, error }) => {
      const answeredAt = performance.now();
      const latencyMs = answeredAt - scheduledAt;
      const answerMs = answeredAt - dispatchedAt;
      latencies.push(latencyMs);
      if (status === 200) {
        summary.acknowledged++;
        acknowledged.add(message.ref);
      } else if (status >= 400 && status < 500) {
        summary.rejected[status] = (summary.rejected[status] ?? 0) + 1;
      } else {
        summary.failed++;
        const key = error ?? `HTTP ${status}`;
        summary.errors[key] = (summary.errors[key] ?? 0) + 1;
      }
      options.onResult?.({ message, duplicate, status, latencyMs, answerMs, error });
      inFlight--;
      pending.delete(done);
      slotFreed?.();
    });
    pending.add(done);
  };

  const stalls = monitorEventLoopDelay({ resolution: 10 });
  stalls.enable();
  const started = performance.now();
  const interval = options.rate > 0 ? 1000 / options.rate : 0;
  const total = Math.round(options.count * (1 + duplicateRatio));
  for (let i = 0; i < total && !options.signal?.aborted; i++) {
    const scheduledAt = started + i * interval;
    const wait = scheduledAt - performance.now();
    if (wait >= 1) {
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    if (inFlight >= options.concurrency) {
      if (interval > 0) {
        summary.lateSends++;
      }
      await new Promise<void>((resolve) => {
        slotFreed = resolve;
      });
      slotFreed = undefined;
    }
    // Exactly `count` new events and round(count × ratio) repeats, the repeats spread evenly.
    const repeatsLeft = total - options.count - summary.duplicatesSent;
    const newLeft = options.count - sent.length - withheld.length;
    const duplicate = sent.length > 0 && repeatsLeft > 0 && chance.next() * (repeatsLeft + newLeft) < repeatsLeft;
    const message = duplicate ? chance.pick(recent) : factory.next(newLeft);
    if (!duplicate) {
      record(message);
      if (withhold(message, sent.length + withheld.length)) {
        withheld.push(message.ref);
        options.onWithheld?.(message);
        continue;
      }
    }
    if (duplicate) {
      summary.duplicatesSent++;
    } else {
      sent.push(message.ref);
      recent[(sent.length - 1) % RECENT] = message;
      count(summary.sentByCommand, message.command);
      if ('early' in message.ref && message.ref.early) {
        count(summary.earlyRecalls, message.command);
      }
    }
    summary.sent++;
    fire(message, duplicate, interval > 0 ? scheduledAt : performance.now());
  }
  await Promise.all(pending);
  await pool.close();
  summary.elapsedMs = performance.now() - started;
  stalls.disable();
  summary.clientStallMs = stalls.max / 1e6;
  summary.latency = summarizeLatencies(latencies);
  summary.acknowledgedEvents = [...acknowledged];
  summary.sentEvents = sent;
  summary.withheldEvents = withheld;
  summary.acknowledgedMessages = groupMessages(summary.acknowledgedEvents);
  summary.sentMessages = groupMessages(sent);
  return summary;
}

const count = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

const groupMessages = (events: readonly EventRef[]) =>
  events.filter((event): event is Extract<EventRef, { kind: 'group-message' }> => event.kind === 'group-message');

function appsOf(options: LoadOptions): AppTokens {
  if (options.apps) {
    if (options.sdkAppId !== undefined || options.token !== undefined) {
      throw new Error('give apps, or sdkAppId and token, not both');
    }
    return options.apps;
  }
  if (options.sdkAppId === undefined) {
    throw new Error('an app to send as is needed: sdkAppId or apps');
  }
  return new Map([[options.sdkAppId, options.token === undefined ? [] : [options.token]]]);
}

/**
 * Signed callback URLs by app and command, made again once a second (the signature covers the
 * second). An app with several tokens (a rotation) is signed with one of them, picked each second.
 */
function createSigner(base: string, apps: AppTokens, random: Random): (sdkAppId: string, command: string) => string {
  let second = -1;
  const urls = new Map<string, Map<string, string>>();
  return (sdkAppId, command) => {
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      second = now;
      urls.clear();
    }
    let ofApp = urls.get(sdkAppId);
    if (ofApp === undefined) {
      ofApp = new Map();
      urls.set(sdkAppId, ofApp);
    }
    let url = ofApp.get(command);
    if (url === undefined) {
      const tokens = apps.get(sdkAppId) ?? [];
      const token = tokens.length > 1 ? random.pick(tokens) : tokens[0];
      url = signedCallbackUrl(base, { sdkAppId, token, command, requestTime: now });
      ofApp.set(command, url);
    }
    return url;
  };
}

async function post(
  pool: Pool,
  url: string,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; error?: string }> {
  try {
    const { statusCode, body: reply } = await pool.request({
      path: url.slice(url.indexOf('/', url.indexOf('//') + 2)),
      method: 'POST',
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await reply.dump();
    return { status: statusCode };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { status: 0, error: code ?? (error as Error).message };
  }
}
