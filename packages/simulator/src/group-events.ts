import {
  GROUP_AFTER_CREATE_GROUP,
  GROUP_AFTER_GROUP_DESTROYED,
  GROUP_AFTER_GROUP_INFO_CHANGED,
  GROUP_AFTER_MEMBER_EXIT,
  GROUP_AFTER_NEW_MEMBER_JOIN,
} from '@imsync/protocol';
import { createGroup, GROUP_TYPES, type SimGroup, USERS } from './messages.js';
import type { Random } from './random.js';

// Group lifecycle and membership callbacks (after-callbacks spec §4–8), in both doc dialects: the CN
// samples (EventTime a number, Operator_Account on GroupDestroyed) and the intl ones (a digit string).

/** One app's groups, as the group events see them. */
export interface GroupEventContext {
  readonly random: Random;
  /** The groups messages go to: members join and leave them, their profiles change. */
  readonly groups: readonly SimGroup[];
  /** Groups created during the run (never sent messages), for a later GroupDestroyed. */
  readonly created: SimGroup[];
  /** `cn` or `intl`: which of Tencent's documented samples this body follows. */
  readonly dialect: Dialect;
}

export type Dialect = 'cn' | 'intl';

/**
 * EventTime for the next event of `group`, later than the last one it had, so two events of one
 * group never share a key (the catalog keys group events by their time). CN samples send a number,
 * intl ones a digit string.
 */
function nextEventTime(group: SimGroup, dialect: Dialect): number | string {
  group.eventTime = Math.max(Date.now(), group.eventTime + 1);
  return dialect === 'cn' ? group.eventTime : String(group.eventTime);
}

const members = (accounts: readonly string[]) => accounts.map((account) => ({ Member_Account: account }));

/** 1 to `max` distinct accounts, some of them new users. */
function accounts(r: Random, max: number): string[] {
  const picked = new Set<string>();
  const n = r.int(1, max);
  while (picked.size < n) {
    picked.add(r.next() < 0.5 ? r.pick(USERS) : `u_${r.int(10_000, 99_999)}`);
  }
  return [...picked];
}

/** Who invites or removes `accounts`: the owner, or an admin when the owner is one of them. */
const operatorOver = (group: SimGroup, accounts: readonly string[]) =>
  accounts.includes(group.owner) ? 'administrator' : group.owner;

/**
 * Members joining or leaving: one on their own (applied, quit), or several by the owner's hand
 * (invited, kicked), who is then the operator.
 */
function membership(
  command: string,
  how: 'JoinType' | 'ExitType',
  list: 'NewMemberList' | 'ExitMemberList',
  types: { themselves: string; byOwner: string; ownerShare: number },
) {
  return ({ random: r, groups, dialect }: GroupEventContext): Record<string, unknown> => {
    const group = r.pick(groups);
    const byOwner = r.next() < types.ownerShare;
    const who = accounts(r, byOwner ? 3 : 1);
    return {
      CallbackCommand: command,
      GroupId: group.id,
      Type: group.type,
      [how]: byOwner ? types.byOwner : types.themselves,
      Operator_Account: byOwner ? operatorOver(group, who) : who[0],
      [list]: members(who),
      EventTime: nextEventTime(group, dialect),
    };
  };
}

const CHANGES: Record<string, (r: Random) => string> = {
  Name: (r) => r.pick(['Release notes', 'Design crit (weekly)', '周末羽毛球 🏸', '']),
  Introduction: (r) => r.pick(['Where we ship from.', 'Bring one idea, leave with three.', '']),
  Notification: (r) => r.pick(['Standup moves to 10:30 from Monday.', '本周五停机维护 22:00-23:00', '']),
  FaceUrl: (r) => `https://example.invalid/face/${r.hex(12)}.png`,
};

export const GROUP_EVENT_BUILDERS: Readonly<Record<string, (ctx: GroupEventContext) => Record<string, unknown>>> = {
  [GROUP_AFTER_CREATE_GROUP]: ({ random: r, created, dialect }) => {
    const group = createGroup(r, r.pick(GROUP_TYPES));
    created.push(group);
    const body: Record<string, unknown> = {
      CallbackCommand: GROUP_AFTER_CREATE_GROUP,
      GroupId: group.id,
      Operator_Account: r.next() < 0.3 ? 'administrator' : group.owner,
      Owner_Account: group.owner,
      Type: group.type,
      Name: group.name,
      MemberList: members([group.owner, ...accounts(r, 3).filter((a) => a !== group.owner)]),
    };
    if (r.next() < 0.3) {
      body.UserDefinedDataList = [{ Key: 'team', Value: r.pick(['ops', 'design', 'growth']) }];
    }
    body.EventTime = nextEventTime(group, dialect);
    return body;
  },
  [GROUP_AFTER_GROUP_DESTROYED]: ({ random: r, created, dialect }) => {
    // A group this run created, else one created before the run; never one messages still go to.
    const group = created.shift() ?? createGroup(r, r.pick(GROUP_TYPES));
    return {
      CallbackCommand: GROUP_AFTER_GROUP_DESTROYED,
      ...(dialect === 'cn' ? { Operator_Account: r.next() < 0.5 ? 'administrator' : group.owner } : {}),
      GroupId: group.id,
      Type: group.type,
      Owner_Account: group.owner,
      Name: group.name,
      // Not sent for Community groups.
      ...(group.type === 'Community' ? {} : { MemberList: members([group.owner, ...accounts(r, 2)]) }),
      EventTime: nextEventTime(group, dialect),
    };
  },
  [GROUP_AFTER_GROUP_INFO_CHANGED]: ({ random: r, groups, dialect }) => {
    const group = r.pick(groups);
    const body: Record<string, unknown> = {
      CallbackCommand: GROUP_AFTER_GROUP_INFO_CHANGED,
      GroupId: group.id,
      Type: group.type,
      Operator_Account: r.next() < 0.7 ? group.owner : 'administrator',
    };
    // Only the changed fields are sent; "" clears one.
    for (const field of Object.keys(CHANGES)) {
      if (r.next() < 0.4) {
        body[field] = (CHANGES[field] as (r: Random) => string)(r);
      }
    }
    if (Object.keys(body).length === 4) {
      body.Notification = (CHANGES.Notification as (r: Random) => string)(r);
    }
    body.EventTime = nextEventTime(group, dialect);
    return body;
  },
  [GROUP_AFTER_NEW_MEMBER_JOIN]: membership(GROUP_AFTER_NEW_MEMBER_JOIN, 'JoinType', 'NewMemberList', {
    themselves: 'Apply',
    byOwner: 'Invited',
    ownerShare: 0.5,
  }),
  [GROUP_AFTER_MEMBER_EXIT]: membership(GROUP_AFTER_MEMBER_EXIT, 'ExitType', 'ExitMemberList', {
    themselves: 'Quit',
    byOwner: 'Kicked',
    ownerShare: 0.3,
  }),
};
