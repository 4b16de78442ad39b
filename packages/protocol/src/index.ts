export { type CallbackQueryOptions, signedCallbackUrl } from './callback-url.js';
export { type FailReply, failReply, GROUP_AFTER_SEND_MSG, OK_REPLY_TEXT } from './commands.js';
export { type MessageIdentity, messageIdentity, messageKey } from './identity.js';
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
export { KNOWN_ELEMENT_TYPES, type MsgElement, MsgElementSchema } from './schemas/elements.js';
export { CallbackEnvelopeSchema, type GroupMessage, GroupMessageSchema } from './schemas/group-message.js';
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
