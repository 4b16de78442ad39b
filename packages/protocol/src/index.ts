export { AppListSchema, type AppTokens, mergeApps } from './apps.js';
export { type CallbackQueryOptions, signedCallbackUrl } from './callback-url.js';
export {
  CALLBACK_CATALOG,
  type CallbackDefinition,
  CommandListSchema,
  JOB_KINDS,
  type JobKind,
  parseCallback,
  parseStoredBody,
  routeKeyOf,
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
export { messageIdentity, messageKey } from './identity.js';
export { formatIssues } from './issues.js';
export {
  DEFAULT_MAX_JSON_DEPTH,
  decodeJsonBody,
  MAX_JSON_DEPTH_LIMIT,
} from './json-body.js';
export type { C2cMessage, C2cRecall } from './schemas/c2c.js';
export { KNOWN_ELEMENT_TYPES } from './schemas/elements.js';
export type { GroupEvent } from './schemas/group-events.js';
export {
  CallbackEnvelopeSchema,
  callbackCommandOf,
  type GroupMessage,
  GroupMessageSchema,
} from './schemas/group-message.js';
export type { GroupRecall } from './schemas/group-recall.js';
export { SdkAppIdSchema } from './schemas/scalars.js';
export {
  computeSign,
  createSignatureVerifier,
  DEFAULT_SIGNATURE_WINDOW_SECONDS,
  type SignatureVerifier,
} from './signature.js';
