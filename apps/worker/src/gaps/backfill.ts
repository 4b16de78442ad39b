import { CALLBACK_CATALOG, GROUP_AFTER_SEND_MSG, parseCallback } from '@imsync/protocol';
import type { BackfillPage } from '@imsync/queue';
import type { AccountKind, SequenceStore } from '@imsync/sinks';
import type { HistoryItem, TencentApi } from '@imsync/tencent';
import { UnrecoverableError } from 'bullmq';
import { PAGE_SIZE } from './scan.js';

/** Tencent's history of one app's groups, as its admin. */
export type History = Pick<TencentApi, 'groupHistory'>;

/** Tencent throttled the app: the whole backfill queue should wait, and this try not count. */
export class ThrottledError extends Error {
  override readonly name = 'ThrottledError';
}

export interface BackfillDeps {
  history(sdkAppId: string): History | undefined;
  sequences: SequenceStore;
  /** Queues a recovered message as an ingest job (through the same dedupe and destinations). */
  enqueueMessage(sdkAppId: string, body: string, key: string): Promise<void>;
  enqueuePage(page: BackfillPage): Promise<void>;
  onAccounted?(kind: AccountKind, count: number): void;
}

export interface PageOutcome {
  recovered: number;
  accounted: number;
  /** Whether the hole is done (this was its last page). */
  done: boolean;
}

/**
 * One page of a hole, from its top down: real messages go into the ingest queue marked as
 * backfilled; tips and system messages, recalled and expired placeholders are accounted for (never
 * messages, never lost); a seq Tencent does not return at all is unrecoverable, not retried for
 * ever. The next page (below the lowest seq answered) is queued until the hole's bottom.
 */
export async function processBackfillPage(page: BackfillPage, deps: BackfillDeps): Promise<PageOutcome> {
  const history = deps.history(page.sdkAppId);
  if (!history) {
    throw new UnrecoverableError(`no admin credentials for SDKAppID ${page.sdkAppId}: the hole stays open`);
  }
  const key = { sdkAppId: page.sdkAppId, groupId: page.groupId, topicId: page.topicId };
  const asked = Math.min(PAGE_SIZE, page.toSeq - page.fromSeq + 1);
  const result = await history.groupHistory({
    groupId: page.groupId,
    ...(page.topicId !== '' && { topicId: page.topicId }),
    reqMsgSeq: page.toSeq,
    reqMsgNumber: asked,
    withRecalled: true,
  });
  if (!result.ok) {
    switch (result.kind) {
      case 'throttled':
        throw new ThrottledError(`Tencent throttled the history call (${result.code})`);
      case 'group_gone': {
        // The group no longer exists: what is missing can never come back.
        const seqs = range(page.fromSeq, page.toSeq);
        await deps.sequences.account(
          key,
          seqs.map((seq) => ({ seq, kind: 'unrecoverable' as const, detail: `group gone (${result.code})` })),
        );
        await deps.sequences.close(key, `group gone (${result.code})`);
        await deps.sequences.closeHoles(key, { fromSeq: page.holeFrom, toSeq: page.holeTo });
        deps.onAccounted?.('unrecoverable', seqs.length);
        return { recovered: 0, accounted: seqs.length, done: true };
      }
      // A wrong key or admin: every try would fail alike. Failed at once, loudly; retried from the
      // dashboard once the configuration is fixed.
      case 'signature':
      case 'permission':
      case 'fatal':
        throw new UnrecoverableError(`Tencent refused the history call: ${result.code} ${result.info}`);
      default:
        throw new Error(`history call failed: ${result.code} ${result.info}`);
    }
  }
  const { items, isFinished } = result.value;
  const inRange = items.filter((item) => item.msgSeq >= page.fromSeq && item.msgSeq <= page.toSeq);
  const lowest = inRange.reduce((low, item) => Math.min(low, item.msgSeq), page.toSeq + 1);
  // What this answer covered: the whole asked range (IsFinished 1), down to its lowest seq when
  // cut short (0), or the whole rest of the hole when everything below has expired (2).
  const coveredFrom =
    isFinished === 2 ? page.fromSeq : isFinished === 0 && inRange.length > 0 ? lowest : page.toSeq - asked + 1;
  const answered = new Set(inRange.map((item) => item.msgSeq));
  const accounts: { seq: number; kind: AccountKind; detail?: string }[] = [];
  const enqueued: Promise<void>[] = [];
  for (const item of inRange) {
    if (item.isSystemMsg) {
      accounts.push({ seq: item.msgSeq, kind: 'system' });
    } else if (item.isPlaceMsg === 2) {
      accounts.push({ seq: item.msgSeq, kind: 'recalled' });
    } else if (item.isPlaceMsg === 1 || item.msgBody.length === 0) {
      accounts.push({ seq: item.msgSeq, kind: 'expired' });
    } else {
      const body = messageBody(page, item);
      const parsed = parseCallback(
        CALLBACK_CATALOG[GROUP_AFTER_SEND_MSG] as NonNullable<(typeof CALLBACK_CATALOG)[string]>,
        page.sdkAppId,
        JSON.parse(body),
      );
      if (!parsed.ok) {
        accounts.push({ seq: item.msgSeq, kind: 'unrecoverable', detail: 'history item is not a valid message' });
        continue;
      }
      // Queued together: the producer writes the jobs of one turn in one Redis call.
      enqueued.push(deps.enqueueMessage(page.sdkAppId, body, parsed.key));
    }
  }
  // Seqs of the covered range Tencent did not answer: online-only or never stored, or (IsFinished
  // 2) expired.
  for (const seq of range(coveredFrom, page.toSeq)) {
    if (!answered.has(seq)) {
      accounts.push(
        isFinished === 2 ? { seq, kind: 'expired' } : { seq, kind: 'unrecoverable', detail: 'not in the history' },
      );
    }
  }
  await Promise.all(enqueued);
  const recovered = enqueued.length;
  await deps.sequences.account(key, accounts);
  for (const kind of ['system', 'recalled', 'expired', 'unrecoverable'] as const) {
    const count = accounts.filter((a) => a.kind === kind).length;
    if (count > 0) {
      deps.onAccounted?.(kind, count);
    }
  }
  const nextTo = coveredFrom - 1;
  if (nextTo >= page.fromSeq) {
    await deps.enqueuePage({ ...page, toSeq: nextTo });
    return { recovered, accounted: accounts.length, done: false };
  }
  await deps.sequences.closeHoles(key, { fromSeq: page.holeFrom, toSeq: page.holeTo });
  return { recovered, accounted: accounts.length, done: true };
}

/** The callback body Tencent would have sent, from its history item (callback-only fields absent). */
function messageBody(page: BackfillPage, item: HistoryItem): string {
  return JSON.stringify({
    CallbackCommand: GROUP_AFTER_SEND_MSG,
    GroupId: page.groupId,
    ...(page.topicId !== '' && { TopicId: page.topicId }),
    Type: page.groupType,
    From_Account: item.fromAccount,
    Random: item.msgRandom,
    MsgSeq: item.msgSeq,
    MsgTime: item.msgTimeStamp,
    MsgBody: item.msgBody,
  });
}

function range(from: number, to: number): number[] {
  return from > to ? [] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
