export { ELEMENT_TYPES } from './elements.js';
export { commandsProblem } from './events.js';
export { type LoadOptions, type LoadSummary, runLoad, type SendResult } from './load.js';
export {
  type GeneratedIdentity,
  type GeneratedMessage,
  MessageFactory,
  type MessageFactoryOptions,
  type SentMessage,
} from './messages.js';
export { Random } from './random.js';
export type { EventRef, GeneratedEvent } from './refs.js';
export { type LatencySummary, summarizeLatencies } from './stats.js';
export {
  type ArchiveCheck,
  checkArchive,
  checkStored,
  type KindCheck,
  type StoredCheck,
  waitUntilArchived,
} from './verify.js';
