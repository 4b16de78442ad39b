import * as v from 'valibot';

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
export const HistoryItemSchema = v.pipe(
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
export const HistoryResponseSchema = v.looseObject({
  IsFinished: v.picklist([0, 1, 2], 'must be 0, 1 or 2'),
  RspMsgList: v.optional(v.array(v.unknown(), 'must be an array'), []),
});

/** `get_group_info`: the top-level code means little, each group has its own (Tencent's sample). */
export const GroupInfoResponseSchema = v.looseObject({
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
export const TopicResponseSchema = v.looseObject({
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
