export { commandsProblem } from './events.js';
export { type LoadSummary, runLoad } from './load.js';
export { type GeneratedMessage, MessageFactory } from './messages.js';
export type { EventRef, GeneratedEvent } from './refs.js';
export { type ArchiveCheck, checkArchive, checkStored, type KindCheck, waitUntilArchived } from './verify.js';
