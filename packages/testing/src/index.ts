export {
  exited,
  freePort,
  type PostgresService,
  type RedisService,
  type ServiceHandle,
  spawnOwned,
} from '@imsync/local-services';
export { type AppProcess, type AppProcessOptions, startAppProcess } from './app-process.js';
export { type CallbackQueryOptions, signedCallbackUrl } from './callback.js';
export { createCaptureLogger } from './capture-logger.js';
export { dockerAvailable } from './docker.js';
export { messageKeyOf } from './messages.js';
export { startPostgres, startRedis } from './start.js';
export { type WaitOptions, waitFor } from './wait.js';
