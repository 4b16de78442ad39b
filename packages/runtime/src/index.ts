export {
  ConfigError,
  type Env,
  intVar,
  LogLevelVar,
  loadConfigOrExit,
  parseConfig,
  urlVar,
} from './config.js';
export { closeHttpServer } from './http-server.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { createRegistry, METRIC_PREFIX } from './metrics.js';
export { type OpsRoutesOptions, type ReadinessCheck, registerOpsRoutes } from './ops-routes.js';
export { createShutdown, onSignals, type Shutdown, type ShutdownOptions, type ShutdownStep } from './shutdown.js';
