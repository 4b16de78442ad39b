export { type AppProcess, startAppProcess } from './app-process.js';
export { type CallbackQueryOptions, signedCallbackUrl } from './callback.js';
export { exited, spawnOwned } from './child.js';
export { dockerAvailable } from './docker.js';
export { messageKeyOf } from './messages.js';
export { freePort } from './ports.js';
export type { PostgresService, RedisService, ServiceHandle } from './services.js';
export { startPostgres, startRedis } from './start.js';
export { type WaitOptions, waitFor } from './wait.js';
