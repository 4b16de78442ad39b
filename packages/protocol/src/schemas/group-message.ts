import * as v from 'valibot';
import { GROUP_AFTER_SEND_MSG } from '../commands.js';
import { MsgElementSchema } from './elements.js';
import { ColumnTextSchema, EventTimeSchema, FlagSchema, Uint32Schema, UnixSecondsSchema } from './scalars.js';

// GroupId and TopicId go into the archive's unique key; bound them well above Tencent's own
// limits (48 bytes custom, 96 bytes topic) so one odd body cannot bloat an index entry.
const MAX_ID_LENGTH = 256;

const IdSchema = v.pipe(
  ColumnTextSchema,
  v.minLength(1, 'must not be empty'),
  v.maxLength(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`),
);

const GroupAtSchema = v.looseObject({
  GroupAtAllFlag: FlagSchema,
  GroupAt_Account: v.optional(v.string()),
});

/**
 * Body of `Group.CallbackAfterSendMsg` (spec §4). Loose: unknown fields are kept. The identity
 * fields (GroupId, TopicId, MsgSeq, Random) take their exact JSON types, never coerced.
 */
export const GroupMessageSchema = v.looseObject({
  CallbackCommand: v.literal(GROUP_AFTER_SEND_MSG),
  GroupId: IdSchema,
  // Every string below that the archive keeps in a column of its own must survive it unchanged.
  Type: ColumnTextSchema,
  From_Account: ColumnTextSchema,
  Operator_Account: v.optional(ColumnTextSchema),
  Random: Uint32Schema,
  MsgSeq: Uint32Schema,
  MsgTime: UnixSecondsSchema,
  MsgBody: v.pipe(v.array(MsgElementSchema, 'must be an array'), v.minLength(1, 'must hold at least one element')),
  MsgId: v.optional(ColumnTextSchema),
  OnlineOnlyFlag: v.optional(FlagSchema),
  CloudCustomData: v.optional(v.string('must be a string')),
  // Absent or "" both mean the message is not in a topic; identity treats them alike.
  TopicId: v.optional(
    v.pipe(ColumnTextSchema, v.maxLength(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)),
  ),
  EventTime: v.optional(EventTimeSchema),
  GroupAtInfo: v.optional(v.array(GroupAtSchema, 'must be an array')),
});

export type GroupMessage = v.InferOutput<typeof GroupMessageSchema>;

/** Just enough of any callback body to route it: the command it says it is. */
export const CallbackEnvelopeSchema = v.looseObject({ CallbackCommand: v.string() });
