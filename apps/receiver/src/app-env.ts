import type { RequestIdVariables } from 'hono/request-id';
import type { RejectionReason } from './errors.js';
import type { CallbackOutcome } from './metrics.js';

/** Per-request values the route sets and the logging middleware reads. */
export interface AppEnv {
  Variables: RequestIdVariables & {
    outcome?: CallbackOutcome;
    jobId?: string;
    reason?: RejectionReason;
  };
}
