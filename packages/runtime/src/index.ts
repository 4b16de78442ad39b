export {
  ConfigError,
  type Env,
  intVar,
  LogLevelVar,
  loadConfigOrExit,
  parseConfig,
  startOrExit,
  urlVar,
} from './config.js';
export { DEMO_VALUES } from './demo.js';
export { errorResponse, registerErrorEnvelope } from './error-envelope.js';
export {
  closeHttpServer,
  createHttpServer,
  listen,
} from './http-server.js';
export { createLogger, type Logger } from './logger.js';
export { createRegistry, METRIC_PREFIX } from './metrics.js';
export { type OpsRoutesOptions, registerOpsRoutes } from './ops-routes.js';
export { type OpsServer, startOpsServer } from './ops-server.js';
export { createShutdown, onSignals } from './shutdown.js';
