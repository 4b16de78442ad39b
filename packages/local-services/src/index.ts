export { type AppProcess, type AppProcessOptions, startAppProcess } from './app-process.js';
export { APPS, type AppCommand, type AppName, appCommand, repoRoot } from './apps.js';
export { exited, spawnOwned } from './child.js';
export { type LocalPostgresOptions, startLocalPostgres } from './local-postgres.js';
export { type RedisServerOptions, startLocalRedis } from './local-redis.js';
export { freePort } from './ports.js';
export { type ProcessLog, processLogs } from './process-log.js';
export { type ServerProcess, startServerProcess } from './server-process.js';
export { createUniqueDatabase, type PostgresService, type RedisService, type ServiceHandle } from './services.js';
