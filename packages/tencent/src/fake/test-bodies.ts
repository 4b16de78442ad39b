import { GROUP_AFTER_SEND_MSG } from '@imsync/protocol';

/** For tests: a `Group.CallbackAfterSendMsg` body, a text message with seq `seq` in `groupId`. */
export function groupMessageBody(groupId: string, seq: number, fields: Record<string, unknown> = {}) {
  return {
    CallbackCommand: GROUP_AFTER_SEND_MSG,
    GroupId: groupId,
    Type: 'Public',
    From_Account: 'lin.wei',
    Random: 7000 + seq,
    MsgSeq: seq,
    MsgTime: 1_699_990_000 + seq,
    MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: `hello ${seq}` } }],
    ...fields,
  };
}
