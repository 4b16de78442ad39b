import * as v from 'valibot';
import {
  C2C_AFTER_MSG_WITHDRAW,
  C2C_AFTER_SEND_MSG,
  GROUP_AFTER_CREATE_GROUP,
  GROUP_AFTER_GROUP_DESTROYED,
  GROUP_AFTER_GROUP_INFO_CHANGED,
  GROUP_AFTER_MEMBER_EXIT,
  GROUP_AFTER_NEW_MEMBER_JOIN,
  GROUP_AFTER_RECALL_MSG,
  GROUP_AFTER_SEND_MSG,
} from './commands.js';
import { eventKey, messageIdentity, messageKey } from './identity.js';
import { formatIssues } from './issues.js';
import { MAX_JSON_DEPTH_LIMIT, parseJsonText } from './json-body.js';
import { C2cMessageSchema, C2cRecallSchema } from './schemas/c2c.js';
import {
  GroupCreatedSchema,
  GroupDestroyedSchema,
  GroupInfoChangedSchema,
  MemberExitedSchema,
  MemberJoinedSchema,
} from './schemas/group-events.js';
import { GroupMessageSchema } from './schemas/group-message.js';
import { GroupRecallSchema } from './schemas/group-recall.js';

/** The kinds of work a stored callback becomes; each has one job name, one processor and one archive. */
export const JOB_KINDS = ['group-message', 'group-recall', 'c2c-message', 'c2c-recall', 'group-event'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** One supported callback command: how its body is checked, keyed and handled. */
export interface CallbackDefinition<TSchema extends v.GenericSchema = v.GenericSchema> {
  readonly command: string;
  readonly schema: TSchema;
  /** The job that carries it to a worker (and so the archive that stores it). */
  readonly job: JobKind;
  /**
   * The event's identity as a key: its job id and dedupe marker. The same event delivered twice
   * has the same key; two different events never share one.
   */
  key(sdkAppId: string, body: v.InferOutput<TSchema>): string;
}

function define<TSchema extends v.GenericSchema>(definition: CallbackDefinition<TSchema>): CallbackDefinition {
  return definition as unknown as CallbackDefinition;
}

/** Sorted member accounts, so the order Tencent lists them in does not make a new key. */
const accounts = (list: readonly { Member_Account: string }[] | undefined) =>
  (list ?? []).map((member) => member.Member_Account).sort();

/**
 * Every callback imsync stores, keyed by `CallbackCommand`. The receiver, the workers, the
 * simulator and the metrics read this table; adding a command is one entry, its handler and its
 * fixtures. Keys follow the after-callbacks spec §9: message events leave EventTime out (a
 * redelivery might carry another one); group events have no other identity than their content.
 * It has no prototype: a command read from a request or a job (`constructor`, `toString`) finds
 * nothing in it but its own entries.
 */
export const CALLBACK_CATALOG: Readonly<Record<string, CallbackDefinition>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, CallbackDefinition>, {
    [GROUP_AFTER_SEND_MSG]: define({
      command: GROUP_AFTER_SEND_MSG,
      schema: GroupMessageSchema,
      job: 'group-message',
      key: (sdkAppId, body) => messageKey(messageIdentity(sdkAppId, body)),
    }),
    [GROUP_AFTER_RECALL_MSG]: define({
      command: GROUP_AFTER_RECALL_MSG,
      schema: GroupRecallSchema,
      job: 'group-recall',
      key: (sdkAppId, body) =>
        eventKey('gr', [
          sdkAppId,
          body.GroupId,
          body.TopicId ?? '',
          [...new Set(body.MsgSeqList.map((item) => item.MsgSeq))].sort((a, b) => a - b),
        ]),
    }),
    [C2C_AFTER_SEND_MSG]: define({
      command: C2C_AFTER_SEND_MSG,
      schema: C2cMessageSchema,
      job: 'c2c-message',
      key: (sdkAppId, body) => eventKey('cm', [sdkAppId, body.From_Account, body.To_Account, body.MsgKey]),
    }),
    [C2C_AFTER_MSG_WITHDRAW]: define({
      command: C2C_AFTER_MSG_WITHDRAW,
      schema: C2cRecallSchema,
      job: 'c2c-recall',
      key: (sdkAppId, body) => eventKey('cw', [sdkAppId, body.From_Account, body.To_Account, body.MsgKey]),
    }),
    [GROUP_AFTER_CREATE_GROUP]: define({
      command: GROUP_AFTER_CREATE_GROUP,
      schema: GroupCreatedSchema,
      job: 'group-event',
      key: (sdkAppId, body) => eventKey('ge', [sdkAppId, body.CallbackCommand, body.GroupId, body.EventTime ?? null]),
    }),
    [GROUP_AFTER_GROUP_DESTROYED]: define({
      command: GROUP_AFTER_GROUP_DESTROYED,
      schema: GroupDestroyedSchema,
      job: 'group-event',
      key: (sdkAppId, body) => eventKey('ge', [sdkAppId, body.CallbackCommand, body.GroupId, body.EventTime ?? null]),
    }),
    [GROUP_AFTER_GROUP_INFO_CHANGED]: define({
      command: GROUP_AFTER_GROUP_INFO_CHANGED,
      schema: GroupInfoChangedSchema,
      job: 'group-event',
      key: (sdkAppId, body) =>
        eventKey('ge', [
          sdkAppId,
          body.CallbackCommand,
          body.GroupId,
          body.EventTime ?? null,
          body.Operator_Account ?? null,
          body.Name ?? null,
          body.Introduction ?? null,
          body.Notification ?? null,
          body.FaceUrl ?? null,
        ]),
    }),
    [GROUP_AFTER_NEW_MEMBER_JOIN]: define({
      command: GROUP_AFTER_NEW_MEMBER_JOIN,
      schema: MemberJoinedSchema,
      job: 'group-event',
      key: (sdkAppId, body) =>
        eventKey('ge', [
          sdkAppId,
          body.CallbackCommand,
          body.GroupId,
          body.EventTime ?? null,
          body.Operator_Account ?? null,
          body.JoinType ?? null,
          accounts(body.NewMemberList),
        ]),
    }),
    [GROUP_AFTER_MEMBER_EXIT]: define({
      command: GROUP_AFTER_MEMBER_EXIT,
      schema: MemberExitedSchema,
      job: 'group-event',
      key: (sdkAppId, body) =>
        eventKey('ge', [
          sdkAppId,
          body.CallbackCommand,
          body.GroupId,
          body.EventTime ?? null,
          body.Operator_Account ?? null,
          body.ExitType ?? null,
          accounts(body.ExitMemberList),
        ]),
    }),
  }),
);

/** Every supported command, in catalog order (for `TIM_COMMANDS`, the simulator, metrics labels). */
export const SUPPORTED_COMMANDS: readonly string[] = Object.freeze(Object.keys(CALLBACK_CATALOG));

export type ParsedCallback =
  | { ok: true; definition: CallbackDefinition; body: unknown; key: string }
  | { ok: false; issues: v.BaseIssue<unknown>[] };

/**
 * A body already accepted once (a job's, an archived row's), parsed again as the worker parses
 * it, so the key it derives is the one the receiver derived. `problem` says what is wrong if not.
 */
export function parseStoredBody(
  definition: CallbackDefinition,
  sdkAppId: string,
  text: string,
): { ok: true; body: unknown; key: string } | { ok: false; problem: string } {
  // The receiver already enforced its configured depth; this bound only guards against odd input.
  const decoded = parseJsonText(text, MAX_JSON_DEPTH_LIMIT);
  if (!decoded.ok) {
    return { ok: false, problem: `body is not JSON: ${decoded.detail}` };
  }
  const parsed = parseCallback(definition, sdkAppId, decoded.value);
  return parsed.ok
    ? { ok: true, body: parsed.body, key: parsed.key }
    : { ok: false, problem: `body invalid: ${formatIssues(parsed.issues)}` };
}

/** Validates a decoded body against its command's schema and derives its key. */
export function parseCallback(definition: CallbackDefinition, sdkAppId: string, value: unknown): ParsedCallback {
  const result = v.safeParse(definition.schema, value);
  if (!result.success) {
    return { ok: false, issues: result.issues };
  }
  return { ok: true, definition, body: result.output, key: definition.key(sdkAppId, result.output) };
}

/**
 * What keeps an event's shard (with its app): its group, so a group's messages, recalls and
 * events stay together; for a C2C event, the conversation (both accounts, in order).
 */
export function routeKeyOf(body: unknown): string | undefined {
  const fields = body as { GroupId?: unknown; From_Account?: unknown; To_Account?: unknown };
  if (typeof fields.GroupId === 'string') {
    return fields.GroupId;
  }
  if (typeof fields.From_Account === 'string' && typeof fields.To_Account === 'string') {
    return [fields.From_Account, fields.To_Account].sort().join('\n');
  }
  return undefined;
}

/**
 * `TIM_COMMANDS`: a comma-separated subset of the supported commands, e.g. to store group
 * messages only. Unknown names are refused, so a typo does not silently store nothing.
 */
export const CommandListSchema = v.pipe(
  v.string(),
  v.transform((text) =>
    text
      .split(',')
      .map((command) => command.trim())
      .filter(Boolean),
  ),
  v.check(
    (commands) => commands.every((command) => SUPPORTED_COMMANDS.includes(command)),
    `must list supported commands only: ${SUPPORTED_COMMANDS.join(', ')}`,
  ),
  v.minLength(1, 'must list at least one command'),
  v.transform((commands) => new Set(commands) as ReadonlySet<string>),
);
