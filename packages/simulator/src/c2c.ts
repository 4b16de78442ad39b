import { C2C_AFTER_MSG_WITHDRAW, C2C_AFTER_SEND_MSG } from '@imsync/protocol';
import { ELEMENT_BUILDERS, ELEMENT_TYPES } from './elements.js';
import type { Dialect } from './group-events.js';
import type { Random } from './random.js';

// One-to-one messages and their withdrawals (after-callbacks spec §2–3), in both doc dialects: CN
// (MsgId, a numeric EventTime, no UnreadMsgNum on withdrawals) and intl (UnreadMsgNum, no EventTime).

/** Sends Tencent reports as failed: the callback still fires, with the error (spec §2). */
const FAILURES = [
  { code: 80001, info: 'Message content is not secure due to dirty words.' },
  { code: 20007, info: 'The sender is blocked by the recipient.' },
  { code: 20009, info: 'The two accounts are not friends.' },
] as const;

export interface C2cSend {
  readonly from: string;
  readonly to: string;
  readonly msgSeq: number;
  /** Which element type (index into every type) the message carries. */
  readonly elementIndex: number;
  readonly failed: boolean;
  readonly dialect: Dialect;
}

export interface BuiltC2cMessage {
  readonly body: string;
  readonly msgKey: string;
  readonly sendResult: number;
}

export function buildC2cMessage(r: Random, send: C2cSend): BuiltC2cMessage {
  const time = Math.floor(Date.now() / 1000);
  const random = r.uint32();
  // Every documented sample spells MsgKey so; we treat it as opaque all the same.
  const msgKey = `${send.msgSeq}_${random}_${time}`;
  const failure = send.failed ? r.pick(FAILURES) : undefined;
  const elementType = ELEMENT_TYPES[send.elementIndex % ELEMENT_TYPES.length] as string;
  const cn = send.dialect === 'cn';
  const body: Record<string, unknown> = {
    CallbackCommand: C2C_AFTER_SEND_MSG,
    From_Account: send.from,
    To_Account: send.to,
    MsgSeq: send.msgSeq,
    MsgRandom: random,
    MsgTime: time,
    MsgKey: msgKey,
    ...(cn ? { MsgId: `${r.int(1e17, 9e17)}-${time}-${random}` } : {}),
    OnlineOnlyFlag: r.next() < 0.05 ? 1 : 0,
    SendMsgResult: failure?.code ?? 0,
    ErrorInfo: failure?.info ?? 'send msg succeed',
  };
  // -1 when delivery failed (intl table); the newest CN sample may leave it out otherwise.
  if (failure || !cn || r.next() < 0.5) {
    body.UnreadMsgNum = failure ? -1 : r.int(0, 40);
  }
  body.MsgBody = [(ELEMENT_BUILDERS[elementType] as (random: Random) => unknown)(r)];
  if (r.next() < 0.2) {
    body.CloudCustomData = '{"theme":"spring"}';
  }
  if (cn) {
    body.EventTime = Date.now();
  }
  return { body: JSON.stringify(body), msgKey, sendResult: failure?.code ?? 0 };
}

/** `C2C.CallbackAfterMsgWithDraw` of the message `msgKey` from `from` to `to`. */
export function buildC2cWithdraw(r: Random, from: string, to: string, msgKey: string, dialect: Dialect): string {
  const body: Record<string, unknown> = {
    CallbackCommand: C2C_AFTER_MSG_WITHDRAW,
    From_Account: from,
    To_Account: to,
    MsgKey: msgKey,
  };
  if (dialect === 'cn') {
    body.EventTime = Date.now();
  } else {
    body.UnreadMsgNum = r.int(0, 40);
  }
  return JSON.stringify(body);
}
