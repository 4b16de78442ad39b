// The after-event callbacks imsync stores (see the catalog); any other command is acknowledged and
// counted only. Spelled exactly as Tencent sends them (note the capital D of MsgWithDraw).
export const GROUP_AFTER_SEND_MSG = 'Group.CallbackAfterSendMsg';
export const GROUP_AFTER_RECALL_MSG = 'Group.CallbackAfterRecallMsg';
export const C2C_AFTER_SEND_MSG = 'C2C.CallbackAfterSendMsg';
export const C2C_AFTER_MSG_WITHDRAW = 'C2C.CallbackAfterMsgWithDraw';
export const GROUP_AFTER_CREATE_GROUP = 'Group.CallbackAfterCreateGroup';
export const GROUP_AFTER_GROUP_DESTROYED = 'Group.CallbackAfterGroupDestroyed';
export const GROUP_AFTER_GROUP_INFO_CHANGED = 'Group.CallbackAfterGroupInfoChanged';
export const GROUP_AFTER_NEW_MEMBER_JOIN = 'Group.CallbackAfterNewMemberJoin';
export const GROUP_AFTER_MEMBER_EXIT = 'Group.CallbackAfterMemberExit';

/** The success reply Tencent expects, pre-serialised once: it is sent on every accepted callback. */
export const OK_REPLY_TEXT = '{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}';

export interface FailReply {
  readonly ActionStatus: 'FAIL';
  readonly ErrorCode: number;
  readonly ErrorInfo: string;
}

export function failReply(errorCode: number, errorInfo: string): FailReply {
  return { ActionStatus: 'FAIL', ErrorCode: errorCode, ErrorInfo: errorInfo };
}
