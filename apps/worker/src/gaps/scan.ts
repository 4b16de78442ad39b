import type { BackfillPage } from '@imsync/queue';
import type { Hole, SequenceKey, SequenceMark, SequenceStore } from '@imsync/sinks';

/** What a scan needs of Tencent: the newest seq of a group or topic (absent: no admin credentials). */
export interface TailSource {
  /** NextMsgSeq − 1 of the sequence, or undefined when Tencent cannot say (yet). */
  newestSeq(key: SequenceKey): Promise<number | undefined>;
  /** Whether this app has admin credentials (only then can holes be backfilled). */
  serves(sdkAppId: string): boolean;
  /** The apps it serves. */
  readonly served: readonly string[];
}

export interface ScanOptions {
  sequences: SequenceStore;
  tails: TailSource;
  /** A hole younger than this (its next message arrived that recently) may still fill by itself. */
  graceMs: number;
  /** Sequences with a message this recent are scanned. */
  activeWindowMs: number;
  /** How often each sequence's tail is asked of Tencent. */
  tailIntervalMs: number;
  /**
   * Tail checks (one Tencent call each) one scan may make at most; the sequences unchecked the
   * longest go first, the rest wait for the next scan. Keeps the calls per second bounded however
   * many groups are active.
   */
  tailBudget: number;
  /** Queues the first page of each new hole. */
  enqueue(page: BackfillPage): Promise<void>;
  now?: () => Date;
}

export interface ScanResult {
  sequences: number;
  holesFound: number;
}

/** Pages go down from a hole's top, at most this many seqs a call (Tencent's own limit). */
export const PAGE_SIZE = 20;

/** The first (topmost) page of a hole. */
function firstPage(mark: SequenceKey & { groupType: string | null }, hole: Hole): BackfillPage {
  return {
    sdkAppId: mark.sdkAppId,
    groupId: mark.groupId,
    topicId: mark.topicId,
    groupType: mark.groupType ?? 'Public',
    fromSeq: hole.fromSeq,
    toSeq: hole.toSeq,
    holeFrom: hole.fromSeq,
    holeTo: hole.toSeq,
  };
}

/**
 * One pass of gap detection: start marks for new sequences, find the holes of every active one
 * (and, every `tailIntervalMs`, the silent tail above its newest message), record the new holes
 * and queue their backfill. Holes of apps without admin credentials are recorded only.
 */
export async function scanForGaps(options: ScanOptions): Promise<ScanResult> {
  const now = options.now?.() ?? new Date();
  const since = new Date(now.getTime() - options.activeWindowMs);
  await options.sequences.refreshMarks(since, options.graceMs);
  const marks = await options.sequences.activeMarks(since);
  let holesFound = 0;
  let tailsLeft = options.tailBudget;
  for (const mark of marks) {
    const tailDue = tailsLeft > 0 && tailIsDue(mark, now, options);
    // Nothing stored since the last scan that settled, and no tail to check: nothing can have changed.
    const settled = mark.scannedAt !== null && mark.lastMessageAt.getTime() <= mark.scannedAt.getTime();
    if (settled && !tailDue) {
      continue;
    }
    const { holes, highest } = await options.sequences.scan(mark, options.graceMs, now);
    let tail: Hole | undefined;
    if (tailDue) {
      tailsLeft--;
      tail = await tailHole(mark, highest, now, options);
    }
    // Recorded first: the backfill closes the hole it recorded, so it must be there before its job runs.
    const found = await options.sequences.recordHoles(mark, tail ? [...holes, tail] : holes);
    holesFound += found.length;
    if (options.tails.serves(mark.sdkAppId)) {
      for (const hole of found) {
        await options.enqueue(firstPage(mark, hole));
      }
    }
  }
  // A scan that died between recording a hole and queuing it left a hole no scan would queue (a
  // recorded hole is not new). Each scan queues the first page of the holes open for a while
  // again: the page's job id makes that a no-op while the job exists, and a hole lost that way
  // is backfilled a minute late instead of never.
  // Only the apps it can backfill: the holes of the others (listed, never queued) would take the limit.
  const stale = await options.sequences.openHolesFoundBefore(
    new Date(now.getTime() - REQUEUE_AFTER_MS),
    REQUEUE_LIMIT,
    options.tails.served,
  );
  for (const hole of stale) {
    await options.enqueue(firstPage(hole, hole));
  }
  return { sequences: marks.length, holesFound };
}

/** How old an open hole is before each scan queues its first page again, and how many at most. */
const REQUEUE_AFTER_MS = 60_000;
const REQUEUE_LIMIT = 100;

/** Whether the tail of a sequence should be asked of Tencent now. */
function tailIsDue(mark: SequenceMark, now: Date, options: ScanOptions): boolean {
  const due = !mark.tailCheckedAt || now.getTime() - mark.tailCheckedAt.getTime() >= options.tailIntervalMs;
  // The tail is only a hole once the newest message is older than the grace period.
  const quiet = now.getTime() - mark.lastMessageAt.getTime() >= options.graceMs;
  return due && quiet && options.tails.serves(mark.sdkAppId);
}

/** Messages above the newest one imsync has, that never arrived as callbacks (a silent tail). */
async function tailHole(
  mark: SequenceMark,
  highest: number,
  now: Date,
  options: ScanOptions,
): Promise<Hole | undefined> {
  const newest = await options.tails.newestSeq(mark);
  await options.sequences.setTailChecked(mark, now);
  const top = Math.max(highest, mark.contiguousSeq);
  return newest !== undefined && newest > top ? { fromSeq: top + 1, toSeq: newest } : undefined;
}
