import * as v from 'valibot';
import { GROUP_AFTER_SEND_MSG } from '../commands.js';
import { IdSchema, TopicIdSchema } from './common.js';
import { MsgElementSchema } from './elements.js';
import { ColumnTextSchema, EventTimeSchema, FlagSchema, Uint32Schema, UnixSecondsSchema } from './scalars.js';

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
  TopicId: v.optional(TopicIdSchema),
  EventTime: v.optional(EventTimeSchema),
  GroupAtInfo: v.optional(v.array(GroupAtSchema, 'must be an array')),
});

export type GroupMessage = v.InferOutput<typeof GroupMessageSchema>;

/** Just enough of any callback body to route it: the command it says it is. */
export const CallbackEnvelopeSchema = v.looseObject({ CallbackCommand: v.string() });

/**
 * The command a decoded body names, where `CallbackEnvelopeSchema` accepts it (an object with a
 * string `CallbackCommand`), and `undefined` where it does not. Read in place: the receiver routes
 * every callback on it, and parsing the envelope would copy every field of the body to read one.
 */
export function callbackCommandOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const command = (value as { CallbackCommand?: unknown }).CallbackCommand;
  return typeof command === 'string' ? command : undefined;
}
