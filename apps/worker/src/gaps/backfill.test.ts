import type { BackfillPage } from '@imsync/queue';
import type { SequenceStore } from '@imsync/sinks';
import type { GroupHistoryRequest, HistoryItem, HistoryPage, TencentResult } from '@imsync/tencent';
import { UnrecoverableError } from 'bullmq';
import { describe, expect, test } from 'vitest';
import { processBackfillPage, ThrottledError } from './backfill.js';

type HistoryResult = TencentResult<HistoryPage>;

// The page rules, with Tencent's history and the sequence store in memory.

const PAGE: BackfillPage = {
  sdkAppId: '1600012345',
  groupId: '@TGS#2QH7MZ4NE',
  topicId: '',
  groupType: 'Public',
  fromSeq: 101,
  toSeq: 140,
  holeFrom: 101,
  holeTo: 140,
};

const message = (seq: number, extra: Partial<HistoryItem> = {}): HistoryItem => ({
  msgSeq: seq,
  msgRandom: 1000 + seq,
  msgTimeStamp: 1767583321,
  fromAccount: 'lin.wei',
  msgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: `message ${seq}` } }],
  isPlaceMsg: 0,
  isSystemMsg: false,
  raw: {},
  ...extra,
});

function setup(answer: (request: GroupHistoryRequest) => HistoryResult) {
  const calls: GroupHistoryRequest[] = [];
  const accounts: { seq: number; kind: string }[] = [];
  const closed: string[] = [];
  const messages: { seq: number; key: string }[] = [];
  const pages: BackfillPage[] = [];
  const sequences = {
    async account(_key: unknown, entries: { seq: number; kind: string }[]) {
      accounts.push(...entries.map(({ seq, kind }) => ({ seq, kind })));
    },
    async closeHoles(_key: unknown, range: { fromSeq: number; toSeq: number }) {
      closed.push(`hole ${range.fromSeq}-${range.toSeq}`);
    },
    async close(_key: unknown, reason: string) {
      closed.push(`group: ${reason}`);
    },
  } as unknown as SequenceStore;
  const deps = {
    history: () => ({
      async groupHistory(request: GroupHistoryRequest) {
        calls.push(request);
        return answer(request);
      },
    }),
    sequences,
    async enqueueMessage(_app: string, body: string, key: string) {
      messages.push({ seq: (JSON.parse(body) as { MsgSeq: number }).MsgSeq, key });
    },
    async enqueuePage(page: BackfillPage) {
      pages.push(page);
    },
  };
  return { deps, calls, accounts, closed, messages, pages };
}

const ok = (items: HistoryItem[], isFinished: 0 | 1 | 2): HistoryResult => ({ ok: true, value: { items, isFinished } });

describe('a page of a hole', () => {
  test('messages are queued; tips, recalled, expired and unanswered seqs accounted; the next page goes lower', async () => {
    const run = setup(() =>
      ok(
        [
          ...[140, 139, 138, 137, 136, 134, 133, 132, 131, 129, 128, 127, 126, 124, 123, 121].map((seq) =>
            message(seq),
          ),
          message(130, { isSystemMsg: true }),
          message(125, { isPlaceMsg: 2, msgBody: [] }),
          message(122, { isPlaceMsg: 1, msgBody: [] }),
        ],
        1,
      ),
    );
    expect(await processBackfillPage(PAGE, run.deps)).toEqual({ recovered: 16, accounted: 4, done: false });
    expect(run.calls).toEqual([{ groupId: PAGE.groupId, reqMsgSeq: 140, reqMsgNumber: 20, withRecalled: true }]);
    expect(run.accounts.sort((a, b) => a.seq - b.seq)).toEqual([
      { seq: 122, kind: 'expired' },
      { seq: 125, kind: 'recalled' },
      { seq: 130, kind: 'system' },
      { seq: 135, kind: 'unrecoverable' },
    ]);
    expect(run.messages.map((m) => m.seq)).toContain(121);
    expect(run.messages.every((m) => /^gm-[0-9a-f]{32}$/.test(m.key))).toBe(true);
    expect(run.pages).toEqual([{ ...PAGE, toSeq: 120 }]);
    expect(run.closed).toEqual([]);
  });

  test("the hole's last page closes it", async () => {
    const run = setup(({ reqMsgSeq }) => ok([message(reqMsgSeq ?? 0)], 1));
    const last = { ...PAGE, toSeq: 101 };
    expect(await processBackfillPage(last, run.deps)).toEqual({ recovered: 1, accounted: 0, done: true });
    expect(run.closed).toEqual(['hole 101-140']);
  });

  test('an answer cut short (IsFinished 0) continues below its lowest seq', async () => {
    const run = setup(() =>
      ok(
        [140, 139, 138].map((seq) => message(seq)),
        0,
      ),
    );
    await processBackfillPage(PAGE, run.deps);
    expect(run.pages).toEqual([{ ...PAGE, toSeq: 137 }]);
    expect(run.accounts).toEqual([]);
  });

  test('everything below expired (IsFinished 2): the rest of the hole is accounted expired and it closes', async () => {
    const run = setup(() => ok([message(140)], 2));
    expect(await processBackfillPage(PAGE, run.deps)).toMatchObject({ recovered: 1, accounted: 39, done: true });
    expect(new Set(run.accounts.map((a) => a.kind))).toEqual(new Set(['expired']));
  });

  test('a throttled call is a ThrottledError (the queue waits), a gone group closes for good', async () => {
    const throttled = setup(() => ({ ok: false, code: 60018, info: 'too fast', kind: 'throttled' }));
    await expect(processBackfillPage(PAGE, throttled.deps)).rejects.toBeInstanceOf(ThrottledError);
    const gone = setup(() => ({ ok: false, code: 10010, info: 'dismissed', kind: 'group_gone' }));
    expect(await processBackfillPage(PAGE, gone.deps)).toMatchObject({ accounted: 40, done: true });
    expect(gone.closed).toEqual(['group: group gone (10010)', 'hole 101-140']);
    const refused = setup(() => ({ ok: false, code: 10007, info: 'not an admin', kind: 'permission' }));
    await expect(processBackfillPage(PAGE, refused.deps)).rejects.toBeInstanceOf(UnrecoverableError);
  });
});
