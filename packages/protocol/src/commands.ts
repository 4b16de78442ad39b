/** The callback command imsync ingests; every other command is acknowledged and counted only. */
export const GROUP_AFTER_SEND_MSG = 'Group.CallbackAfterSendMsg';

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
