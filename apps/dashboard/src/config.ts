import { QueuePrefixVar } from '@imsync/queue';
import { type Env, intVar, LogLevelVar, parseConfig, urlVar } from '@imsync/runtime';
import * as v from 'valibot';

const flag = (fallback: boolean) =>
  v.pipe(
    v.optional(v.picklist(['true', 'false', '1', '0']), fallback ? 'true' : 'false'),
    v.transform((value) => value === 'true' || value === '1'),
  );

export const DashboardEnvSchema = v.pipe(
  v.object({
    REDIS_URL: urlVar(['redis:', 'rediss:']),
    QUEUE_PREFIX: QueuePrefixVar,
    PORT: intVar(3000, 0, 65535),
    HOST: v.optional(v.string(), '0.0.0.0'),
    /** Login for the dashboard; both required unless DASHBOARD_LOCAL_ONLY is set. */
    DASHBOARD_USER: v.optional(v.pipe(v.string(), v.minLength(1))),
    DASHBOARD_PASSWORD: v.optional(v.pipe(v.string(), v.minLength(12, 'must be at least 12 characters'))),
    /** Signs session cookies; random per process when unset (sessions then end with a restart). */
    DASHBOARD_SESSION_SECRET: v.optional(v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters'))),
    /** No login at all: allowed only when listening on loopback (HOST=127.0.0.1), for a local trial. */
    DASHBOARD_LOCAL_ONLY: flag(false),
    /** Show queues and jobs, but refuse every action (retry, clean, pause, …). */
    DASHBOARD_READ_ONLY: flag(false),
    SHUTDOWN_TIMEOUT_MS: intVar(10_000, 100, 600_000),
    LOG_LEVEL: LogLevelVar,
  }),
  v.check(
    (c) => c.DASHBOARD_LOCAL_ONLY || (c.DASHBOARD_USER !== undefined && c.DASHBOARD_PASSWORD !== undefined),
    'DASHBOARD_USER and DASHBOARD_PASSWORD are required (or DASHBOARD_LOCAL_ONLY=true with HOST=127.0.0.1)',
  ),
  v.check(
    (c) => !c.DASHBOARD_LOCAL_ONLY || c.HOST === '127.0.0.1' || c.HOST === 'localhost' || c.HOST === '::1',
    'DASHBOARD_LOCAL_ONLY=true needs HOST=127.0.0.1: without a login the dashboard must not be reachable from other machines',
  ),
);

export type DashboardConfig = v.InferOutput<typeof DashboardEnvSchema>;

export function loadDashboardConfig(env: Env): DashboardConfig {
  return parseConfig(DashboardEnvSchema, env);
}
