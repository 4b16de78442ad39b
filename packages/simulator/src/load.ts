import { Agent, request } from 'node:http';
import { signedCallbackUrl } from '@imsync/protocol';
import { type GeneratedMessage, MessageFactory } from './messages.js';
import { Random } from './random.js';
import { type LatencySummary, summarizeLatencies } from './stats.js';

export interface LoadOptions {
  /** The receiver's callback URL, without query. */
  url: string;
  sdkAppId: string;
  /** Signs every request like the IM backend does when callback authentication is on. */
  token?: string;
  /** Messages to send (new ones; duplicates come on top). */
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
  onResult?: (result: SendResult) => void;
}

export interface SendResult {
  readonly message: GeneratedMessage;
  readonly duplicate: boolean;
  /** HTTP status, or 0 when the request failed without an answer. */
  readonly status: number;
  /** From the time the send was scheduled (so client-side queueing counts), in ms. */
  readonly latencyMs: number;
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
  elapsedMs: number;
  /** Messages (not sends) that got at least one 200. */
  acknowledgedMessages: GeneratedMessage[];
  /** Every message sent at least once, answered or not. */
  sentMessages: GeneratedMessage[];
}

/**
 * Plays the IM backend: posts generated callbacks at a fixed rate (open loop: a slow answer
 * does not delay the next send, up to `concurrency` in flight) and counts what came back.
 */
export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const seed = options.seed ?? Date.now();
  const factory = new MessageFactory({ groups: options.groups, seed });
  const chance = new Random(seed ^ 0x5eed);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const duplicateRatio = options.duplicateRatio ?? 0;
  const sent: GeneratedMessage[] = [];
  const acknowledged = new Set<GeneratedMessage>();
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
    elapsedMs: 0,
    acknowledgedMessages: [],
    sentMessages: [],
  };
  const signer = createSigner(options);
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  const pending = new Set<Promise<void>>();

  const fire = (message: GeneratedMessage, duplicate: boolean, scheduledAt: number) => {
    inFlight++;
    const done = post(agent, signer(), message.body, options.timeoutMs ?? 5000).then(({ status, error }) => {
      const latencyMs = performance.now() - scheduledAt;
      latencies.push(latencyMs);
      if (status === 200) {
        summary.acknowledged++;
        acknowledged.add(message);
      } else if (status >= 400 && status < 500) {
        summary.rejected[status] = (summary.rejected[status] ?? 0) + 1;
      } else {
        summary.failed++;
        const key = error ?? `HTTP ${status}`;
        summary.errors[key] = (summary.errors[key] ?? 0) + 1;
      }
      options.onResult?.({ message, duplicate, status, latencyMs, error });
      inFlight--;
      pending.delete(done);
      slotFreed?.();
    });
    pending.add(done);
  };

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
    // Exactly `count` new messages and round(count × ratio) repeats, the repeats spread evenly.
    const repeatsLeft = total - options.count - summary.duplicatesSent;
    const newLeft = options.count - sent.length;
    const duplicate = sent.length > 0 && repeatsLeft > 0 && chance.next() * (repeatsLeft + newLeft) < repeatsLeft;
    const message = duplicate ? chance.pick(sent) : factory.next();
    if (duplicate) {
      summary.duplicatesSent++;
    } else {
      sent.push(message);
    }
    summary.sent++;
    fire(message, duplicate, interval > 0 ? scheduledAt : performance.now());
  }
  await Promise.all(pending);
  agent.destroy();
  summary.elapsedMs = performance.now() - started;
  summary.latency = summarizeLatencies(latencies);
  summary.acknowledgedMessages = [...acknowledged];
  summary.sentMessages = sent;
  return summary;
}

/** The signed callback URL, made again once a second (the signature covers the second). */
function createSigner(options: LoadOptions): () => string {
  let second = -1;
  let url = '';
  return () => {
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      second = now;
      url = signedCallbackUrl(options.url, { sdkAppId: options.sdkAppId, token: options.token, requestTime: now });
    }
    return url;
  };
}

function post(agent: Agent, url: string, body: string, timeoutMs: number): Promise<{ status: number; error?: string }> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', (error) => resolve({ status: 0, error: error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, error: error.code ?? error.message }));
    req.end(body);
  });
}
