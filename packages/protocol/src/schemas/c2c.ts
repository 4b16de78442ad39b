import * as v from 'valibot';
import { C2C_AFTER_MSG_WITHDRAW, C2C_AFTER_SEND_MSG } from '../commands.js';
import { IdSchema } from './common.js';
import { MsgElementSchema } from './elements.js';
import {
  ColumnTextSchema,
  EventTimeSchema,
  FlagSchema,
  IntSchema,
  Uint32Schema,
  UnixSecondsSchema,
} from './scalars.js';

/**
 * Body of `C2C.CallbackAfterSendMsg` (after-callbacks spec §2). It also fires for sends that
 * failed (`SendMsgResult` ≠ 0), which are archived with their result. `MsgKey` is Tencent's handle
 * of the message (what a recall names), opaque to us.
 */
export const C2cMessageSchema = v.looseObject({
  CallbackCommand: v.literal(C2C_AFTER_SEND_MSG),
  From_Account: IdSchema,
  To_Account: IdSchema,
  MsgKey: IdSchema,
  MsgSeq: Uint32Schema,
  MsgRandom: Uint32Schema,
  MsgTime: UnixSecondsSchema,
  MsgId: v.optional(ColumnTextSchema),
  OnlineOnlyFlag: v.optional(FlagSchema),
  // Required by the tables; kept optional so a body that lacks it is archived (result unknown).
  SendMsgResult: v.optional(IntSchema),
  ErrorInfo: v.optional(v.string('must be a string')),
  UnreadMsgNum: v.optional(IntSchema),
  MsgBody: v.pipe(v.array(MsgElementSchema, 'must be an array'), v.minLength(1, 'must hold at least one element')),
  CloudCustomData: v.optional(v.string('must be a string')),
  EventTime: v.optional(EventTimeSchema),
});

export type C2cMessage = v.InferOutput<typeof C2cMessageSchema>;

/** Body of `C2C.CallbackAfterMsgWithDraw` (spec §3): the recalled message by its MsgKey and accounts. */
export const C2cRecallSchema = v.looseObject({
  CallbackCommand: v.literal(C2C_AFTER_MSG_WITHDRAW),
  From_Account: IdSchema,
  To_Account: IdSchema,
  MsgKey: IdSchema,
  UnreadMsgNum: v.optional(IntSchema),
  EventTime: v.optional(EventTimeSchema),
});

export type C2cRecall = v.InferOutput<typeof C2cRecallSchema>;
