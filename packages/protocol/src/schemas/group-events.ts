import * as v from 'valibot';
import {
  GROUP_AFTER_CREATE_GROUP,
  GROUP_AFTER_GROUP_DESTROYED,
  GROUP_AFTER_GROUP_INFO_CHANGED,
  GROUP_AFTER_MEMBER_EXIT,
  GROUP_AFTER_NEW_MEMBER_JOIN,
} from '../commands.js';
import { IdSchema, MemberListSchema } from './common.js';
import { ColumnTextSchema, EventTimeSchema } from './scalars.js';

// Group lifecycle and membership (after-callbacks spec §4–8). The archive keeps the group, the
// command and the time in columns and the body verbatim; the rest is validated for its types.

const common = {
  GroupId: IdSchema,
  Type: v.optional(ColumnTextSchema),
  Operator_Account: v.optional(ColumnTextSchema),
  EventTime: v.optional(EventTimeSchema),
};

const text = v.optional(v.string('must be a string'));

export const GroupCreatedSchema = v.looseObject({
  CallbackCommand: v.literal(GROUP_AFTER_CREATE_GROUP),
  ...common,
  Owner_Account: v.optional(ColumnTextSchema),
  Name: text,
  MemberList: v.optional(MemberListSchema),
  UserDefinedDataList: v.optional(v.array(v.looseObject({ Key: v.string('must be a string') }), 'must be an array')),
});

export const GroupDestroyedSchema = v.looseObject({
  CallbackCommand: v.literal(GROUP_AFTER_GROUP_DESTROYED),
  ...common,
  Owner_Account: v.optional(ColumnTextSchema),
  Name: text,
  // Not sent for Community groups.
  MemberList: v.optional(MemberListSchema),
});

export const GroupInfoChangedSchema = v.looseObject({
  CallbackCommand: v.literal(GROUP_AFTER_GROUP_INFO_CHANGED),
  ...common,
  // Only the changed fields are sent; "" may mean cleared.
  Name: text,
  Introduction: text,
  Notification: text,
  FaceUrl: text,
});

export const MemberJoinedSchema = v.looseObject({
  CallbackCommand: v.literal(GROUP_AFTER_NEW_MEMBER_JOIN),
  ...common,
  JoinType: v.optional(ColumnTextSchema),
  NewMemberList: MemberListSchema,
});

export const MemberExitedSchema = v.looseObject({
  CallbackCommand: v.literal(GROUP_AFTER_MEMBER_EXIT),
  ...common,
  ExitType: v.optional(ColumnTextSchema),
  ExitMemberList: MemberListSchema,
});

export type GroupEvent =
  | v.InferOutput<typeof GroupCreatedSchema>
  | v.InferOutput<typeof GroupDestroyedSchema>
  | v.InferOutput<typeof GroupInfoChangedSchema>
  | v.InferOutput<typeof MemberJoinedSchema>
  | v.InferOutput<typeof MemberExitedSchema>;
