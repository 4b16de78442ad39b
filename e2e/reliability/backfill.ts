import { checkArchive, type EventRef, type GeneratedEvent, waitUntilArchived } from '@imsync/simulator';
import { startFakeTencent } from '@imsync/tencent';

// Backfill under a fault. Tencent keeps a group message in its history before it calls back, and
// never retries a callback that failed: what the receiver did not acknowledge, only backfill can
// bring. So every group message goes to a fake Tencent API's history before it is sent, the
// workers read that history, and each send is logged to tell what was lost and what can come back.

const SECRET_KEY = 'reliability-tencent-secret-key';

export interface BackfillResult {
  /** Distinct events sent and never acknowledged, of every command. */
  lostEvents: number;
  /** The group messages among them: the only kind with a history to read. */
  lostMessages: number;
  /** Those backfill can recover (see `recoverable`). */
  recoverable: number;
  /** Lost group messages stored from Tencent's history (`source = 'backfill'`). */
  recovered: number;
  /**
   * Recoverable messages not in the archive, and those first sent once the receiver was gone
   * (nothing could take them but backfill) stored otherwise.
   */
  unrecovered: number;
}

interface Sent {
  readonly event: GeneratedEvent;
  /** When the first send of the event went out, at the latest (ms since the epoch). */
  firstSentAt: number;
  acknowledged: boolean;
}

export interface TencentHistory {
  /** The workers' variables: the fake as Tencent's API, and gap detection quick enough for a run of seconds. */
  readonly workerEnv: Readonly<Record<string, string>>;
  /** For the load's `record`: keeps a group message where backfill reads it (unless Tencent would not). */
  record(sdkAppId: string, body: string): Promise<void>;
  /** Every send's outcome, from the load's `onResult`. */
  sent(event: GeneratedEvent, status: number, latencyMs: number): void;
  /** The group messages lost at the receiver so far that backfill can recover. */
  recoverable(): GeneratedEvent[];
  /**
   * After the load: waits for the recoverable messages, then counts. Sends made from `goneAt` on
   * (ms since the epoch) reached no receiver; earlier ones left unanswered may have been queued.
   */
  check(databaseUrl: string, goneAt?: number): Promise<BackfillResult>;
  close(): Promise<void>;
}

export async function startTencentHistory(sdkAppId: string): Promise<TencentHistory> {
  const fake = await startFakeTencent({ apps: { [sdkAppId]: SECRET_KEY } });
  const kept = new Set<string>();
  const log = new Map<EventRef, Sent>();

  const recoverable = () => {
    // A sequence (a group, or a topic) begins, for imsync, with the first message it stores:
    // nothing can show a hole below it. So a lost message is recoverable above an acknowledged one
    // of its sequence (the same rule as the simulator's withholding, with losses the fault chose).
    const firstAcknowledged = new Map<string, number>();
    for (const { event, acknowledged } of log.values()) {
      if (acknowledged && event.ref.kind === 'group-message') {
        const key = sequenceOf(event.ref);
        const seq = event.ref.identity.msgSeq;
        firstAcknowledged.set(key, Math.min(seq, firstAcknowledged.get(key) ?? seq));
      }
    }
    return [...log.values()].filter(
      ({ event: { ref, body }, acknowledged }) =>
        !acknowledged &&
        ref.kind === 'group-message' &&
        // Tencent keeps nothing of an AVChatRoom, nor online-only messages.
        kept.has(body) &&
        (firstAcknowledged.get(sequenceOf(ref)) ?? Number.POSITIVE_INFINITY) < ref.identity.msgSeq,
    );
  };

  return {
    workerEnv: {
      TIM_API_BASE_URL: fake.url,
      TIM_SECRET_KEY: SECRET_KEY,
      GAP_GRACE_SECONDS: '2',
      GAP_SCAN_INTERVAL_MS: '300',
      GAP_TAIL_CHECK_SECONDS: '1',
    },
    async record(app, body) {
      if (fake.record(app, body)) {
        kept.add(body);
      }
    },
    sent(event, status, latencyMs) {
      // The latency counts from the time the send was due, so this is at most when it went out.
      const at = Date.now() - latencyMs;
      const entry = log.get(event.ref) ?? { event, firstSentAt: at, acknowledged: false };
      entry.firstSentAt = Math.min(entry.firstSentAt, at);
      entry.acknowledged ||= status === 200;
      log.set(event.ref, entry);
    },
    recoverable: () => recoverable().map((entry) => entry.event),
    async check(databaseUrl, goneAt = Number.POSITIVE_INFINITY) {
      const lost = [...log.values()].filter((entry) => !entry.acknowledged);
      const lostMessages = lost.filter((entry) => entry.event.ref.kind === 'group-message');
      const expected = recoverable();
      const refs = (entries: readonly Sent[]) => entries.map((entry) => entry.event.ref);
      await waitUntilArchived(databaseUrl, refs(expected), 30_000);
      const all = await checkArchive(databaseUrl, refs(lostMessages));
      const whileGone = await checkArchive(databaseUrl, refs(expected.filter((entry) => entry.firstSentAt >= goneAt)));
      const inFlight = await checkArchive(databaseUrl, refs(expected.filter((entry) => entry.firstSentAt < goneAt)));
      return {
        lostEvents: lost.length,
        lostMessages: lostMessages.length,
        recoverable: expected.length,
        recovered: all.backfilled,
        unrecovered: whileGone.missing + whileGone.stored - whileGone.backfilled + inFlight.missing,
      };
    },
    close: () => fake.close(),
  };
}

const sequenceOf = (ref: Extract<EventRef, { kind: 'group-message' }>) =>
  `${ref.sdkAppId}\n${ref.identity.groupId}\n${ref.identity.topicId}`;
