export { DeadlineError, delay, withDeadline } from './deadline.js';
export { BatchItemError, createTurnBatcher, type TurnBatcher, type TurnBatcherOptions } from './turn-batcher.js';
