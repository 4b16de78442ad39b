export { DeadlineError, delay, withDeadline } from './deadline.js';
export { BatchItemError, createTurnBatcher, type TurnBatcher } from './turn-batcher.js';
