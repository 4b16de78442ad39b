import { SdkAppIdSchema } from '@imsync/protocol';
import * as v from 'valibot';

/**
 * Gap detection and backfill work on a queue of their own, visible in the dashboard: a repeated
 * `gap-scan` job (one at a time, whichever worker takes it) and one `backfill-page` job per call
 * to Tencent's history API, so the queue's limiter is the call rate.
 */
export const BACKFILL_QUEUE = 'backfill';
export const GAP_SCAN_JOB = 'gap-scan';
export const BACKFILL_PAGE_JOB = 'backfill-page';

/** One page (at most 20 seqs, from `toSeq` down) of a hole to fetch from Tencent's history. */
export const BackfillPageSchema = v.object({
  sdkAppId: SdkAppIdSchema,
  groupId: v.string(),
  topicId: v.string(),
  /** The group type (Public, Community, …), which history items do not carry. */
  groupType: v.string(),
  /** The hole's lowest seq: pages go down to it. */
  fromSeq: v.pipe(v.number(), v.integer(), v.minValue(0)),
  toSeq: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** The hole as found, closed once the last page is done. */
  holeFrom: v.pipe(v.number(), v.integer(), v.minValue(0)),
  holeTo: v.pipe(v.number(), v.integer(), v.minValue(0)),
});

export type BackfillPage = v.InferOutput<typeof BackfillPageSchema>;

/** The job id of a page: the same page of the same hole is one job. */
export function backfillPageId(page: BackfillPage): string {
  const safe = (text: string) => Buffer.from(text).toString('base64url');
  return `bf-${page.sdkAppId}-${safe(page.groupId)}-${safe(page.topicId)}-${page.fromSeq}-${page.toSeq}`;
}
