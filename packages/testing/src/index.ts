export {
  type AppProcess,
  type AppProcessOptions,
  type CapturedProcess,
  exited,
  freePort,
  type PostgresService,
  type RedisService,
  repoRoot,
  type ServiceHandle,
  spawnCaptured,
  spawnOwned,
  startAppProcess,
} from '@imsync/local-services';
export { type CallbackQueryOptions, signedCallbackUrl } from '@imsync/protocol';
export { createCaptureLogger } from './capture-logger.js';
export { dockerAvailable } from './docker.js';
export { messageKeyOf } from './messages.js';
export { startPostgres, startRedis } from './start.js';
export { type WaitOptions, waitFor, waitForReady } from './wait.js';
