import type { BackfillPage } from '@imsync/queue';
import type { Hole, SequenceKey, SequenceMark, SequenceStore } from '@imsync/sinks';
import { expect, test } from 'vitest';
import { scanForGaps } from './scan.js';

// The scan's rules, with the sequence store and Tencent's tails in memory.

const NOW = new Date('2026-11-30T12:00:00Z');
const MINUTE = 60_000;
const ago = (ms: number) => new Date(NOW.getTime() - ms);

const mark = (groupId: string, fields: Partial<SequenceMark> = {}): SequenceMark => ({
  sdkAppId: '1600012345',
  groupId,
  topicId: '',
  groupType: 'Public',
  contiguousSeq: 10,
  lastMessageAt: ago(10 * MINUTE),
  tailCheckedAt: null,
  scannedAt: null,
  ...fields,
});

function setup(
  marks: SequenceMark[],
  options: { holes?: Hole[]; newest?: number; served?: string[]; enqueueFails?: number } = {},
) {
  const scanned: string[] = [];
  const tailAsked: string[] = [];
  const pages: BackfillPage[] = [];
  // Recorded holes (all open here) by sequence and first seq, as the table keys them.
  const recorded = new Map<string, SequenceKey & Hole & { groupType: string; foundAt: Date }>();
  const clock = { now: NOW };
  const id = (key: SequenceKey, hole: Hole) => `${key.groupId}/${key.topicId}/${hole.fromSeq}`;
  let enqueueFails = options.enqueueFails ?? 0;
  const sequences = {
    async refreshMarks() {},
    async activeMarks() {
      return marks;
    },
    async scan(m: SequenceMark) {
      scanned.push(m.groupId);
      return { holes: options.holes ?? [], highest: 12, pending: false };
    },
    async recordHoles(key: SequenceKey, holes: Hole[]) {
      const fresh = holes.filter((hole) => !recorded.has(id(key, hole)));
      for (const hole of fresh) {
        recorded.set(id(key, hole), { ...key, ...hole, groupType: 'Public', foundAt: clock.now });
      }
      return fresh;
    },
    async openHolesFoundBefore(before: Date, limit: number, sdkAppIds: readonly string[]) {
      return [...recorded.values()]
        .filter((hole) => hole.foundAt < before && sdkAppIds.includes(hole.sdkAppId))
        .slice(0, limit);
    },
    async setTailChecked() {},
  } as unknown as SequenceStore;
  const served = new Set(options.served ?? ['1600012345']);
  const run = (tailBudget = 100) =>
    scanForGaps({
      sequences,
      tails: {
        serves: (sdkAppId) => served.has(sdkAppId),
        served: [...served],
        async newestSeq(key) {
          tailAsked.push(key.groupId);
          return options.newest;
        },
      },
      graceMs: MINUTE,
      activeWindowMs: 24 * 60 * MINUTE,
      tailIntervalMs: 5 * MINUTE,
      tailBudget,
      async enqueue(page) {
        if (enqueueFails > 0) {
          enqueueFails--;
          throw new Error('the process died here');
        }
        pages.push(page);
      },
      now: () => clock.now,
    });
  return { run, scanned, tailAsked, pages, clock };
}

test('a sequence settled since its last message, whose tail is not due, is not scanned', async () => {
  const at = ago(10 * MINUTE);
  const s = setup([
    mark('settled', { lastMessageAt: at, scannedAt: at, tailCheckedAt: ago(MINUTE) }),
    mark('new-message', { lastMessageAt: at, scannedAt: ago(20 * MINUTE), tailCheckedAt: ago(MINUTE) }),
    mark('never-scanned', { tailCheckedAt: ago(MINUTE) }),
  ]);
  await s.run();
  expect(s.scanned).toEqual(['new-message', 'never-scanned']);
  expect(s.tailAsked).toEqual([]);
});

test('a silent tail above the newest stored seq is a hole, backfilled from its top', async () => {
  const s = setup([mark('quiet')], { newest: 15 });
  expect(await s.run()).toEqual({ sequences: 1, holesFound: 1 });
  expect(s.pages).toEqual([expect.objectContaining({ groupId: 'quiet', fromSeq: 13, toSeq: 15, holeTo: 15 })]);
});

test('no tail is asked while the newest message is within the grace period', async () => {
  const s = setup([mark('busy', { lastMessageAt: ago(10_000) })], { newest: 15 });
  await s.run();
  expect(s.tailAsked).toEqual([]);
  expect(s.pages).toEqual([]);
});

test('tail checks stop at the budget; the rest wait for the next scan', async () => {
  const s = setup([mark('a'), mark('b'), mark('c')], { newest: 12 });
  await s.run(2);
  expect(s.tailAsked).toEqual(['a', 'b']);
});

test('an app without a secret key has its holes recorded, never queued, and Tencent is not asked its tails', async () => {
  const s = setup([mark('g')], { holes: [{ fromSeq: 11, toSeq: 11 }], newest: 20, served: [] });
  expect(await s.run()).toEqual({ sequences: 1, holesFound: 1 });
  expect(s.pages).toEqual([]);
  expect(s.tailAsked).toEqual([]);
});

test('a hole recorded by a scan that died before queuing it is queued by a scan a minute later', async () => {
  // The worker died (here: Redis refused the add) after recording the hole: no later scan finds it
  // new. A scan queues the first page of every hole open for a minute again (its job id makes that
  // a no-op while the job exists): backfilled late, never lost.
  const s = setup([mark('g')], { holes: [{ fromSeq: 11, toSeq: 11 }], enqueueFails: 1 });
  await expect(s.run()).rejects.toThrow('the process died here');
  await s.run();
  expect(s.pages).toEqual([]);
  s.clock.now = new Date(NOW.getTime() + MINUTE + 1);
  await s.run();
  expect(s.pages).toEqual([expect.objectContaining({ groupId: 'g', fromSeq: 11, toSeq: 11, holeTo: 11 })]);
});
