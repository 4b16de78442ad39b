export { commandsProblem } from './events.js';
export { type LoadSummary, runLoad } from './load.js';
export { type GeneratedMessage, MessageFactory, type SentMessage } from './messages.js';
export type { EventRef } from './refs.js';
export { type ArchiveCheck, checkArchive, checkStored, type KindCheck, waitUntilArchived } from './verify.js';
