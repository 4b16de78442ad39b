import { formatIssues } from '@imsync/protocol';
import * as v from 'valibot';
import type { HistoryItem, HistoryPage, TencentResult } from './api.js';
import { classifyErrorCode, NO_TENCENT_CODE, type TencentErrorKind } from './errors.js';

// Tencent's answers. Loose everywhere (Tencent adds fields over time); strict on the fields we
// read. Sequence numbers and randoms are uint32 (spec §1), kept as JS numbers.

const UINT32_MAX = 4_294_967_295;

const Uint32Schema = v.pipe(
  v.number('must be a number'),
  v.integer('must be an integer'),
  v.minValue(0, 'must be ≥ 0'),
  v.maxValue(UINT32_MAX, 'must be ≤ 4294967295'),
);

const IntSchema = v.pipe(v.number('must be a number'), v.integer('must be an integer'));

/** Every REST answer: `ActionStatus` OK/FAIL, `ErrorCode` (0 = success), `ErrorInfo`. */
export const EnvelopeSchema = v.looseObject({
  ActionStatus: v.string('must be a string'),
  ErrorCode: v.optional(IntSchema, 0),
  ErrorInfo: v.optional(v.string('must be a string'), ''),
});

/**
 * One `RspMsgList` item. A message (`IsPlaceMsg` 0, not a system message) must carry everything
 * an archive row needs; a placeholder (1 expired/deleted, 2 recalled) or a tip may come with an
 * empty body and without sender, random or time.
 */
const HistoryItemSchema = v.pipe(
  v.looseObject({
    MsgSeq: Uint32Schema,
    MsgRandom: v.optional(Uint32Schema),
    MsgTimeStamp: v.optional(Uint32Schema),
    From_Account: v.optional(v.string('must be a string')),
    MsgBody: v.optional(v.array(v.unknown(), 'must be an array')),
    IsPlaceMsg: v.optional(v.picklist([0, 1, 2], 'must be 0, 1 or 2'), 0),
    IsSystemMsg: v.optional(v.picklist([0, 1], 'must be 0 or 1'), 0),
  }),
  v.check(
    (item) =>
      item.IsPlaceMsg !== 0 ||
      item.IsSystemMsg === 1 ||
      (item.MsgRandom !== undefined &&
        item.MsgTimeStamp !== undefined &&
        item.From_Account !== undefined &&
        item.MsgBody !== undefined),
    'a message (IsPlaceMsg 0) must carry MsgRandom, MsgTimeStamp, From_Account and MsgBody',
  ),
);

/** `group_msg_get_simple`; its items are read one by one (HistoryItemSchema) to keep each as sent. */
const HistoryResponseSchema = v.looseObject({
  IsFinished: v.picklist([0, 1, 2], 'must be 0, 1 or 2'),
  RspMsgList: v.optional(v.array(v.unknown(), 'must be an array'), []),
});

/** `get_group_info`: the top-level code means little, each group has its own (Tencent's sample). */
const GroupInfoResponseSchema = v.looseObject({
  GroupInfo: v.array(
    v.looseObject({
      GroupId: v.optional(v.string('must be a string')),
      ErrorCode: v.optional(IntSchema, 0),
      ErrorInfo: v.optional(v.string('must be a string'), ''),
      Type: v.optional(v.string('must be a string')),
      NextMsgSeq: v.optional(Uint32Schema),
    }),
    'must be an array',
  ),
});

/** `get_topic`: one entry per topic asked for, each with its own code (doocs SDK's model, S9). */
const TopicResponseSchema = v.looseObject({
  TopicAndSelfInfo: v.array(
    v.looseObject({
      ErrorCode: v.optional(IntSchema, 0),
      ErrorInfo: v.optional(v.string('must be a string'), ''),
      TopicInfo: v.optional(
        v.looseObject({
          TopicId: v.optional(v.string('must be a string')),
          NextMsgSeq: v.optional(Uint32Schema),
        }),
      ),
    }),
    'must be an array',
  ),
});

type Failure = Extract<TencentResult<never>, { ok: false }>;

/** A failed result; its kind from Tencent's code unless given. */
export function failure(code: number, info: string, kind: TencentErrorKind = classifyErrorCode(code)): Failure {
  return { ok: false, code, info, kind };
}

/** A `group_msg_get_simple` page, each item kept as sent in `raw`. */
export function readHistory(json: unknown): TencentResult<HistoryPage> {
  const page = v.safeParse(HistoryResponseSchema, json);
  if (!page.success) {
    return failure(NO_TENCENT_CODE, `unexpected history answer (${formatIssues(page.issues)})`, 'fatal');
  }
  const items: HistoryItem[] = [];
  for (const [index, raw] of page.output.RspMsgList.entries()) {
    const item = v.safeParse(HistoryItemSchema, raw);
    if (!item.success) {
      return failure(NO_TENCENT_CODE, `unexpected RspMsgList[${index}] (${formatIssues(item.issues)})`, 'fatal');
    }
    const { MsgSeq, MsgRandom, MsgTimeStamp, From_Account, MsgBody, IsPlaceMsg, IsSystemMsg } = item.output;
    items.push({
      msgSeq: MsgSeq,
      msgRandom: MsgRandom ?? 0,
      msgTimeStamp: MsgTimeStamp ?? 0,
      fromAccount: From_Account ?? '',
      msgBody: MsgBody ?? [],
      isPlaceMsg: IsPlaceMsg,
      isSystemMsg: IsSystemMsg === 1,
      raw: raw as Record<string, unknown>,
    });
  }
  return { ok: true, value: { items, isFinished: page.output.IsFinished } };
}

/** `get_group_info`'s entry for `groupId`: its own ErrorCode, else its type and NextMsgSeq. */
export function readGroupInfo(json: unknown, groupId: string): TencentResult<{ type: string; nextMsgSeq: number }> {
  const answer = v.safeParse(GroupInfoResponseSchema, json);
  if (!answer.success) {
    return failure(NO_TENCENT_CODE, `unexpected group info answer (${formatIssues(answer.issues)})`, 'fatal');
  }
  const list = answer.output.GroupInfo;
  const group = list.find((g) => g.GroupId === groupId) ?? (list.length === 1 ? list[0] : undefined);
  if (group === undefined) {
    return failure(NO_TENCENT_CODE, 'the answer has no GroupInfo for this group', 'fatal');
  }
  if (group.ErrorCode !== 0) {
    return failure(group.ErrorCode, group.ErrorInfo);
  }
  if (group.Type === undefined || group.NextMsgSeq === undefined) {
    return failure(NO_TENCENT_CODE, 'the group info lacks Type or NextMsgSeq', 'fatal');
  }
  return { ok: true, value: { type: group.Type, nextMsgSeq: group.NextMsgSeq } };
}

/** `get_topic`'s entry for `topicId`: its own ErrorCode, else its NextMsgSeq. */
export function readTopicInfo(json: unknown, topicId: string): TencentResult<{ nextMsgSeq: number }> {
  const answer = v.safeParse(TopicResponseSchema, json);
  if (!answer.success) {
    return failure(NO_TENCENT_CODE, `unexpected topic answer (${formatIssues(answer.issues)})`, 'fatal');
  }
  const list = answer.output.TopicAndSelfInfo;
  const entry = list.find((t) => t.TopicInfo?.TopicId === topicId) ?? (list.length === 1 ? list[0] : undefined);
  if (entry === undefined) {
    return failure(NO_TENCENT_CODE, 'the answer has no TopicAndSelfInfo for this topic', 'fatal');
  }
  if (entry.ErrorCode !== 0) {
    return failure(entry.ErrorCode, entry.ErrorInfo);
  }
  const nextMsgSeq = entry.TopicInfo?.NextMsgSeq;
  if (nextMsgSeq === undefined) {
    return failure(NO_TENCENT_CODE, 'the topic info lacks NextMsgSeq', 'fatal');
  }
  return { ok: true, value: { nextMsgSeq } };
}
