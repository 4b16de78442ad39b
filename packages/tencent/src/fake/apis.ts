import { formatIssues } from '@imsync/protocol';
import * as v from 'valibot';
import type { HistoryStore, StoredItem } from './store.js';

/** The REST APIs the fake answers, by command word. */
export type FakeTencentApi = 'group_msg_get_simple' | 'get_group_info' | 'get_topic';

const MAX_REQ_MSG_NUMBER = 20;
/** get_group_info takes at most 50 groups a call (Tencent's docs). */
const MAX_GROUPS_PER_CALL = 50;

const Uint32 = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(4_294_967_295));

const HistoryRequestSchema = v.looseObject({
  GroupId: v.pipe(v.string(), v.minLength(1)),
  ReqMsgNumber: v.pipe(v.number(), v.integer(), v.minValue(1)),
  ReqMsgSeq: v.optional(Uint32),
  WithRecalledMsg: v.optional(v.picklist([0, 1])),
  TopicId: v.optional(v.string()),
});

const GroupInfoRequestSchema = v.looseObject({
  GroupIdList: v.pipe(v.array(v.string()), v.minLength(1), v.maxLength(MAX_GROUPS_PER_CALL)),
});

const TopicRequestSchema = v.looseObject({
  GroupId: v.pipe(v.string(), v.minLength(1)),
  From_Account: v.pipe(v.string(), v.minLength(1)),
  TopicIdList: v.optional(v.array(v.string())),
});

export type Reply = Record<string, unknown>;

const ok = (fields: Reply = {}): Reply => ({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...fields });
export const fail = (code: number, info: string): Reply => ({ ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info });

/**
 * What each API answers once the call has passed the URL, signature and throttle checks, from
 * the fake's history, in Tencent's shapes.
 */
export function createFakeApis(store: HistoryStore, maxPageBytes: number) {
  function groupHistory(sdkAppId: string, json: unknown): Reply {
    const parsed = v.safeParse(HistoryRequestSchema, json);
    if (!parsed.success) {
      return fail(10004, `invalid parameter: ${formatIssues(parsed.issues)}`);
    }
    const { GroupId, ReqMsgNumber, ReqMsgSeq, WithRecalledMsg, TopicId } = parsed.output;
    if (ReqMsgNumber > MAX_REQ_MSG_NUMBER) {
      return fail(10004, `invalid parameter: ReqMsgNumber must be at most ${MAX_REQ_MSG_NUMBER}`);
    }
    const group = store.lookup(sdkAppId, GroupId);
    if (!group.found) {
      return fail(10010, 'the group does not exist or has been dismissed');
    }
    if (group.type === 'AVChatRoom') {
      // Tencent's docs only say AVChatRoom is not supported; the code it answers is a guess.
      return fail(10004, 'AVChatRoom groups keep no message history');
    }
    const items = store.history(sdkAppId, {
      groupId: GroupId,
      topicId: TopicId ?? '',
      reqMsgSeq: ReqMsgSeq,
      reqMsgNumber: ReqMsgNumber,
      withRecalled: WithRecalledMsg === 1,
    });
    const page = cutToSize(items ?? [], maxPageBytes);
    return ok({ GroupId, IsFinished: page.length === (items ?? []).length ? 1 : 0, RspMsgList: page });
  }

  function groupInfo(sdkAppId: string, json: unknown): Reply {
    const parsed = v.safeParse(GroupInfoRequestSchema, json);
    if (!parsed.success) {
      return fail(10004, `invalid parameter: ${formatIssues(parsed.issues)}`);
    }
    // Tencent's sample: the top level says OK, each group has its own ErrorCode.
    const GroupInfo = parsed.output.GroupIdList.map((GroupId) => {
      const group = store.lookup(sdkAppId, GroupId);
      if (!group.found) {
        return { GroupId, ErrorCode: 10010, ErrorInfo: 'the group does not exist or has been dismissed' };
      }
      const NextMsgSeq = store.nextMsgSeq(sdkAppId, GroupId, '');
      return { GroupId, ErrorCode: 0, ErrorInfo: '', Type: group.type, NextMsgSeq };
    });
    return ok({ GroupInfo });
  }

  function topicInfo(sdkAppId: string, json: unknown): Reply {
    const parsed = v.safeParse(TopicRequestSchema, json);
    if (!parsed.success) {
      return fail(10004, `invalid parameter: ${formatIssues(parsed.issues)}`);
    }
    const { GroupId, TopicIdList } = parsed.output;
    const group = store.lookup(sdkAppId, GroupId);
    if (!group.found) {
      return fail(10010, 'the group does not exist or has been dismissed');
    }
    if (group.type !== 'Community') {
      return fail(10004, 'only topic-enabled Community groups have topics');
    }
    const known = new Set(store.topics(sdkAppId, GroupId));
    const TopicAndSelfInfo = (TopicIdList ?? [...known]).map((TopicId) => {
      if (!known.has(TopicId)) {
        // Which code Tencent gives a missing topic is not documented; 10010 is a guess.
        return { ErrorCode: 10010, ErrorInfo: 'the topic does not exist', TopicInfo: { TopicId } };
      }
      const NextMsgSeq = store.nextMsgSeq(sdkAppId, GroupId, TopicId);
      return { ErrorCode: 0, ErrorInfo: '', TopicInfo: { TopicId, GroupID: GroupId, NextMsgSeq }, SelfInfo: {} };
    });
    return ok({ TopicAndSelfInfo });
  }

  return {
    group_msg_get_simple: groupHistory,
    get_group_info: groupInfo,
    get_topic: topicInfo,
  } satisfies Record<FakeTencentApi, (sdkAppId: string, json: unknown) => Reply>;
}

/** The items that fit `maxBytes` of JSON, newest first; at least one, or no page would ever move on. */
function cutToSize(items: readonly StoredItem[], maxBytes: number): StoredItem[] {
  const page: StoredItem[] = [];
  let bytes = 0;
  for (const item of items) {
    bytes += Buffer.byteLength(JSON.stringify(item));
    if (page.length > 0 && bytes > maxBytes) {
      break;
    }
    page.push(item);
  }
  return page;
}
