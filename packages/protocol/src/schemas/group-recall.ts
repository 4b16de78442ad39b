import * as v from 'valibot';
import { GROUP_AFTER_RECALL_MSG } from '../commands.js';
import { IdSchema, TopicIdSchema } from './common.js';
import { ColumnTextSchema, EventTimeSchema, Uint32Schema } from './scalars.js';

/** Tencent recalls in batches; far more in one callback is not a recall but an attack on the archive. */
const MAX_RECALLED_PER_CALLBACK = 1000;

/**
 * Body of `Group.CallbackAfterRecallMsg` (after-callbacks spec §1): the messages of one group (or
 * topic) recalled together, by their MsgSeq. Only what finds the messages is required; who
 * recalled them is kept when sent.
 */
export const GroupRecallSchema = v.looseObject({
  CallbackCommand: v.literal(GROUP_AFTER_RECALL_MSG),
  GroupId: IdSchema,
  TopicId: v.optional(TopicIdSchema),
  Type: v.optional(ColumnTextSchema),
  Operator_Account: v.optional(ColumnTextSchema),
  MsgSeqList: v.pipe(
    v.array(v.looseObject({ MsgSeq: Uint32Schema, MsgId: v.optional(ColumnTextSchema) }), 'must be an array'),
    v.minLength(1, 'must name at least one message'),
    v.maxLength(MAX_RECALLED_PER_CALLBACK, `must name at most ${MAX_RECALLED_PER_CALLBACK} messages`),
  ),
  EventTime: v.optional(EventTimeSchema),
});

export type GroupRecall = v.InferOutput<typeof GroupRecallSchema>;
