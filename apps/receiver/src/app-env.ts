import type { RequestIdVariables } from 'hono/request-id';
import type { RejectionReason } from './errors.js';
import type { CallbackOutcome } from './metrics.js';

/** Per-request values the route sets and the logging middleware reads. */
export interface AppEnv {
  Variables: RequestIdVariables & {
    outcome?: CallbackOutcome;
    /** The served SDKAppID the request named, once it is known to be one. */
    app?: string;
    /** The callback command (a catalog command, or "other"), once the body named one. */
    command?: string;
    jobId?: string;
    reason?: RejectionReason;
  };
}
