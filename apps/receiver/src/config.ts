import {
  AppListSchema,
  CommandListSchema,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_SIGNATURE_WINDOW_SECONDS,
  MAX_JSON_DEPTH_LIMIT,
  mergeApps,
  SdkAppIdSchema,
  SUPPORTED_COMMANDS,
} from '@imsync/protocol';
import { DEFAULT_RETRY_POLICY, QUEUE_LAYOUT_VARS, REDIS_VARS } from '@imsync/queue';
import { type Env, intVar, LogLevelVar, parseConfig } from '@imsync/runtime';
import { TRACING_VARS } from '@imsync/tracing';
import * as v from 'valibot';

const AUTH_PATHS = [['TIM_CALLBACK_AUTH'], ['TIM_CALLBACK_TOKEN'], ['TIM_APPS'], ['TIM_SDK_APP_ID']] as const;

export const ReceiverEnvSchema = v.pipe(
  v.object({
    /** Redis: one server, a Redis Cluster or Sentinel (README, "Scaling past one Redis"). */
    ...REDIS_VARS,
    /** Traces, off unless these say otherwise (README, "Following one message"). */
    ...TRACING_VARS,
    /** Your IM app's SDKAppID (or several in TIM_APPS); callbacks for any other app are refused with 403. */
    TIM_SDK_APP_ID: v.optional(SdkAppIdSchema),
    /** `SDKAPPID:TOKEN,…`: several apps, and several tokens of one app while rotating. */
    TIM_APPS: v.optional(AppListSchema),
    /** The supported commands to store (default: all); any other is acknowledged and counted only. */
    TIM_COMMANDS: v.optional(CommandListSchema, SUPPORTED_COMMANDS.join(',')),
    /**
     * `on` (default): every callback must carry a valid `Sign`, so `TIM_CALLBACK_TOKEN` is required.
     * `off`: nothing is checked; anyone who reaches the port can enqueue. Only an explicit `off`
     * does that, so a forgotten token stops the process instead of opening it.
     */
    TIM_CALLBACK_AUTH: v.optional(v.picklist(['on', 'off'], 'must be on or off'), 'on'),
    /** The console's callback authentication token. */
    TIM_CALLBACK_TOKEN: v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty when set'), v.maxLength(128))),
    PORT: intVar(8080, 0, 65535),
    HOST: v.optional(v.string(), '0.0.0.0'),
    /** Connections open at once on PORT; past it, new ones are closed at once (idle sockets cost memory). */
    MAX_CONNECTIONS: intVar(1024, 16, 65535),
    /** Port of /readyz and /metrics, apart from the public one (0: any free port). */
    METRICS_PORT: intVar(9090, 0, 65535),
    /** Address of that port: loopback unless a scraper elsewhere needs it (compose sets 0.0.0.0). */
    METRICS_HOST: v.optional(v.string(), '127.0.0.1'),
    CALLBACK_PATH: v.optional(v.pipe(v.string(), v.startsWith('/', 'must start with /')), '/im/callback'),
    BODY_LIMIT_BYTES: intVar(1024 * 1024, 1024, 64 * 1024 * 1024),
    MAX_JSON_DEPTH: intVar(DEFAULT_MAX_JSON_DEPTH, 8, MAX_JSON_DEPTH_LIMIT),
    /** Tencent says 60 s; a wider window lets a captured URL be replayed for longer, hence the cap. */
    SIGNATURE_WINDOW_SECONDS: intVar(DEFAULT_SIGNATURE_WINDOW_SECONDS, 1, 300),
    /** A Redis write slower than this fails the request with 503, well within Tencent's 2 s. */
    ENQUEUE_TIMEOUT_MS: intVar(1000, 50, 1900),
    /**
     * 0 (default): the callbacks accepted in one event-loop turn share a Redis call. More: those
     * accepted within this many ms do, each waiting up to that long more (BENCHMARKS.md measures it).
     */
    ENQUEUE_BATCH_WINDOW_MS: intVar(0, 0, 20),
    JOB_ATTEMPTS: intVar(DEFAULT_RETRY_POLICY.attempts, 1, 1000),
    JOB_BACKOFF_MS: intVar(DEFAULT_RETRY_POLICY.baseDelayMs, 1, 3600 * 1000),
    ...QUEUE_LAYOUT_VARS,
    /** A client that has not sent its request headers after this long is disconnected (slowloris). */
    HTTP_HEADERS_TIMEOUT_MS: intVar(5000, 100, 120_000),
    /** A client that has not sent its whole request after this long is disconnected. */
    HTTP_REQUEST_TIMEOUT_MS: intVar(15_000, 100, 600_000),
    /** Time for in-flight requests to finish on SIGTERM before the process exits anyway. */
    SHUTDOWN_TIMEOUT_MS: intVar(10_000, 100, 600_000),
    LOG_LEVEL: LogLevelVar,
    /**
     * Which callbacks get a log line of their own: `all` (default), `rejected` (4xx and 5xx only) or
     * `none`. The metrics count every callback whatever this says; errors are logged anyway.
     */
    LOG_CALLBACKS: v.optional(v.picklist(['all', 'rejected', 'none'], 'must be all, rejected or none'), 'all'),
  }),
  // partialCheck, not check: it runs even when an unrelated variable is wrong, so every problem
  // shows at once. Its message is all that is printed, never a token.
  v.partialCheck(
    AUTH_PATHS,
    (c) => c.TIM_APPS !== undefined || c.TIM_SDK_APP_ID !== undefined,
    'TIM_SDK_APP_ID is required (your IM SDKAppID), or TIM_APPS to serve several apps',
  ),
  v.partialCheck(
    AUTH_PATHS,
    (c) => c.TIM_CALLBACK_AUTH === 'off' || appsOf(c).every(([, tokens]) => tokens.length > 0),
    'TIM_CALLBACK_TOKEN is required while TIM_CALLBACK_AUTH=on (the default): set it to the console token (or give every app of TIM_APPS its token), or set TIM_CALLBACK_AUTH=off to accept unsigned callbacks',
  ),
  v.partialCheck(
    AUTH_PATHS,
    (c) => c.TIM_CALLBACK_AUTH === 'on' || appsOf(c).every(([, tokens]) => tokens.length === 0),
    'TIM_CALLBACK_AUTH=off contradicts a callback token (TIM_CALLBACK_TOKEN or in TIM_APPS): remove the tokens, or remove TIM_CALLBACK_AUTH to check signatures',
  ),
  v.transform((c) => ({ ...c, apps: new Map(appsOf(c)) })),
);

/** Every served app with its tokens, from both forms of configuration. */
function appsOf(c: {
  TIM_APPS?: ReadonlyMap<string, readonly string[]> | undefined;
  TIM_SDK_APP_ID?: string | undefined;
  TIM_CALLBACK_TOKEN?: string | undefined;
}): [string, string[]][] {
  return [...mergeApps(c.TIM_APPS, { sdkAppId: c.TIM_SDK_APP_ID, token: c.TIM_CALLBACK_TOKEN })];
}

export type ReceiverConfig = v.InferOutput<typeof ReceiverEnvSchema>;

export function loadReceiverConfig(env: Env): ReceiverConfig {
  return parseConfig(ReceiverEnvSchema, env);
}
