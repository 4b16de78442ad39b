export { type DestinationConfig, loadDestinationsConfig } from './config.js';
export { createDestinations } from './create.js';
export type { DeliveryEvent, DeliveryOutcome, Destination } from './destination.js';
export { createHttpDestination, type HttpDestinationOptions } from './http.js';
export { loadDestinationModule } from './module.js';
export { DEFAULT_RETRY_SCHEDULE, retryDelayMs } from './schedule.js';
