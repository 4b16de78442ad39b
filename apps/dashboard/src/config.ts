import { QUEUE_LAYOUT_VARS, REDIS_VARS } from '@imsync/queue';
import { DEMO_VALUES, type Env, intVar, LogLevelVar, parseConfig } from '@imsync/runtime';
import * as v from 'valibot';

/** The password `pnpm start` and older `.env.example` files use: public, so good only on loopback. */
/** Public (README, `pnpm start`), so refused unless the dashboard listens on loopback only. */
export const DEMO_PASSWORD = DEMO_VALUES.dashboardPassword;

export const MIN_PASSWORD_LENGTH = 12;

/** Addresses other machines cannot reach. */
export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

const flag = (fallback: boolean) =>
  v.pipe(
    v.optional(v.picklist(['true', 'false', '1', '0']), fallback ? 'true' : 'false'),
    v.transform((value) => value === 'true' || value === '1'),
  );

/**
 * An optional string where empty means unset: compose passes `${VAR:-}` through as "", and an
 * empty password must fall back to the password file, not fail its length rule.
 */
const optionalNonEmpty = <TSchema extends v.GenericSchema<string, string>>(schema: TSchema) =>
  v.pipe(
    v.optional(v.string()),
    v.transform((value) => (value === '' ? undefined : value)),
    v.optional(schema),
  );

export const DashboardEnvSchema = v.pipe(
  v.object({
    /** Redis: one server, a Redis Cluster or Sentinel (README, "Scaling past one Redis"). */
    ...REDIS_VARS,
    ...QUEUE_LAYOUT_VARS,
    PORT: intVar(3000, 0, 65535),
    HOST: v.optional(v.string(), '0.0.0.0'),
    /** Login for the dashboard; both required unless DASHBOARD_LOCAL_ONLY is set. */
    DASHBOARD_USER: v.optional(v.pipe(v.string(), v.minLength(1))),
    DASHBOARD_PASSWORD: optionalNonEmpty(
      v.pipe(v.string(), v.minLength(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)),
    ),
    /**
     * Where the password is when DASHBOARD_PASSWORD is unset: a Docker secret, or a file the
     * dashboard generates on first start (compose's one-command trial).
     */
    DASHBOARD_PASSWORD_FILE: optionalNonEmpty(v.string()),
    /** Signs session cookies; random per process when unset (sessions then end with a restart). */
    DASHBOARD_SESSION_SECRET: v.optional(v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters'))),
    /** No login at all: allowed only when listening on loopback (HOST=127.0.0.1), for a local trial. */
    DASHBOARD_LOCAL_ONLY: flag(false),
    /** Show queues and jobs, but refuse every action (retry, clean, pause, …). */
    DASHBOARD_READ_ONLY: flag(false),
    /** Also allow the actions that delete or forge messages (add, edit, remove, empty, obliterate, …). */
    DASHBOARD_ALLOW_DESTRUCTIVE: flag(false),
    /** The client address is the right-most X-Forwarded-For entry (set only behind a proxy that sets it). */
    DASHBOARD_TRUST_PROXY: flag(false),
    /** Failed logins allowed per client address, and in all, per 15 minutes. */
    DASHBOARD_LOGIN_FAILURES_PER_ADDRESS: intVar(5, 1, 10_000),
    DASHBOARD_LOGIN_FAILURES_TOTAL: intVar(50, 1, 1_000_000),
    SHUTDOWN_TIMEOUT_MS: intVar(10_000, 100, 600_000),
    LOG_LEVEL: LogLevelVar,
  }),
  v.check(
    (c) =>
      c.DASHBOARD_LOCAL_ONLY ||
      (c.DASHBOARD_USER !== undefined &&
        (c.DASHBOARD_PASSWORD !== undefined || c.DASHBOARD_PASSWORD_FILE !== undefined)),
    'DASHBOARD_USER and DASHBOARD_PASSWORD (or DASHBOARD_PASSWORD_FILE) are required (or DASHBOARD_LOCAL_ONLY=true with HOST=127.0.0.1)',
  ),
  v.check(
    (c) => !c.DASHBOARD_LOCAL_ONLY || isLoopbackHost(c.HOST),
    'DASHBOARD_LOCAL_ONLY=true needs HOST=127.0.0.1: without a login the dashboard must not be reachable from other machines',
  ),
  v.check(
    (c) => c.DASHBOARD_PASSWORD !== DEMO_PASSWORD || isLoopbackHost(c.HOST),
    demoPasswordProblem('DASHBOARD_PASSWORD'),
  ),
);

/** Why the demo password is refused, and what to do instead; names the variable, never the value. */
export function demoPasswordProblem(variable: string): string {
  return (
    `${variable} is the published demo password, which anyone can look up: it is allowed only while the ` +
    'dashboard listens on loopback (HOST=127.0.0.1). Set a password of your own, or (in compose) leave ' +
    'DASHBOARD_PASSWORD empty to get a generated one in DASHBOARD_PASSWORD_FILE'
  );
}

export type DashboardConfig = v.InferOutput<typeof DashboardEnvSchema>;

export function loadDashboardConfig(env: Env): DashboardConfig {
  return parseConfig(DashboardEnvSchema, env);
}
