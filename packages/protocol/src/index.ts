export { AppListSchema, type AppTokens, mergeApps } from './apps.js';
export { type CallbackQueryOptions, signedCallbackUrl } from './callback-url.js';
export {
  CALLBACK_CATALOG,
  type CallbackDefinition,
  CommandListSchema,
  JOB_KINDS,
  type JobKind,
  type ParsedCallback,
  parseCallback,
  SUPPORTED_COMMANDS,
} from './catalog.js';
export {
  C2C_AFTER_MSG_WITHDRAW,
  C2C_AFTER_SEND_MSG,
  type FailReply,
  failReply,
  GROUP_AFTER_CREATE_GROUP,
  GROUP_AFTER_GROUP_DESTROYED,
  GROUP_AFTER_GROUP_INFO_CHANGED,
  GROUP_AFTER_MEMBER_EXIT,
  GROUP_AFTER_NEW_MEMBER_JOIN,
  GROUP_AFTER_RECALL_MSG,
  GROUP_AFTER_SEND_MSG,
  OK_REPLY_TEXT,
} from './commands.js';
export { eventKey, type MessageIdentity, messageIdentity, messageKey } from './identity.js';
export { formatIssues } from './issues.js';
export {
  DEFAULT_MAX_JSON_DEPTH,
  decodeJsonBody,
  exceedsDepth,
  type JsonBodyFailure,
  type JsonBodyResult,
  MAX_JSON_DEPTH_LIMIT,
  parseJsonText,
} from './json-body.js';
export { type C2cMessage, C2cMessageSchema, type C2cRecall, C2cRecallSchema } from './schemas/c2c.js';
export { KNOWN_ELEMENT_TYPES, type MsgElement, MsgElementSchema } from './schemas/elements.js';
export {
  GroupCreatedSchema,
  GroupDestroyedSchema,
  type GroupEvent,
  GroupInfoChangedSchema,
  MemberExitedSchema,
  MemberJoinedSchema,
} from './schemas/group-events.js';
export { CallbackEnvelopeSchema, type GroupMessage, GroupMessageSchema } from './schemas/group-message.js';
export { type GroupRecall, GroupRecallSchema, MAX_RECALLED_PER_CALLBACK } from './schemas/group-recall.js';
export { type CallbackQuery, CallbackQuerySchema } from './schemas/query.js';
export { isStorableText, MAX_UNIX_SECONDS, SdkAppIdSchema } from './schemas/scalars.js';
export {
  computeSign,
  createSignatureVerifier,
  DEFAULT_SIGNATURE_WINDOW_SECONDS,
  type SignatureFailure,
  type SignatureResult,
  type SignatureVerifier,
  type SignatureVerifierOptions,
} from './signature.js';
