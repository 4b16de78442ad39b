export {
  ConfigError,
  type Env,
  intVar,
  LogLevelVar,
  loadConfigOrExit,
  parseConfig,
  redactUrl,
  SECRET_VARIABLE,
  startOrExit,
  urlVar,
} from './config.js';
export { DEMO_VALUES } from './demo.js';
export { type ErrorEnvelope, errorResponse, registerErrorEnvelope } from './error-envelope.js';
export {
  closeHttpServer,
  createHttpServer,
  type HttpServerOptions,
  type ListenOptions,
  listen,
} from './http-server.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { createRegistry, METRIC_PREFIX } from './metrics.js';
export { type OpsRoutesOptions, type ReadinessCheck, registerOpsRoutes } from './ops-routes.js';
export { type OpsServer, startOpsServer } from './ops-server.js';
export { createShutdown, onSignals, type Shutdown, type ShutdownOptions, type ShutdownStep } from './shutdown.js';
