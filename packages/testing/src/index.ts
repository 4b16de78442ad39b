export {
  type AppProcess,
  exited,
  freePort,
  type PostgresService,
  type RedisService,
  repoRoot,
  spawnCaptured,
  spawnOwned,
  startAppProcess,
} from '@imsync/local-services';
export { type CallbackQueryOptions, signedCallbackUrl } from '@imsync/protocol';
export { createCaptureLogger } from './capture-logger.js';
export { messageKeyOf } from './messages.js';
export { holdSilentPort } from './silent-port.js';
export { startPostgres, startRedis } from './start.js';
export { waitFor, waitForReady } from './wait.js';
