import { AppListSchema, mergeApps, SdkAppIdSchema } from '@imsync/protocol';
import { DEFAULT_RETRY_POLICY, QueuePrefixVar } from '@imsync/queue';
import { type Env, intVar, LogLevelVar, parseConfig, urlVar } from '@imsync/runtime';
import * as v from 'valibot';

/**
 * Recovery after a worker crash: its jobs are marked by the first stalled check after the crash
 * and moved back by the first check after their lock expired, so at worst lock + interval. Each
 * costs Redis one small script call per worker and period (extending every active lock at once,
 * and the stalled check, which runs once per interval across all workers).
 */
export const DEFAULT_JOB_LOCK_MS = 8000;
export const DEFAULT_STALLED_CHECK_MS = 4000;

export const WorkerEnvSchema = v.pipe(
  v.object({
    /** Redis holding the queue (the receiver's). */
    REDIS_URL: urlVar(['redis:', 'rediss:']),
    /** PostgreSQL holding the message archive; migrated at start. */
    DATABASE_URL: urlVar(['postgres:', 'postgresql:']),
    /** Jobs one process works on at once; the archive batches their rows into shared INSERTs. */
    WORKER_CONCURRENCY: intVar(50, 1, 1000),
    /**
     * The apps this worker stores messages for; a job naming any other app fails for good. A job is
     * data anyone with write access to Redis can forge, so the worker checks it too.
     */
    TIM_SDK_APP_ID: v.optional(SdkAppIdSchema),
    /** As on the receiver (`SDKAPPID:TOKEN,…`, or ids alone): only the ids are used, tokens are ignored. */
    TIM_APPS: v.optional(AppListSchema),
    /** Port of /healthz, /readyz and /metrics; each worker on one host needs its own (0: any free port). */
    METRICS_PORT: intVar(9091, 0, 65535),
    /** Address of that port: loopback unless a scraper elsewhere needs it (compose sets 0.0.0.0). */
    METRICS_HOST: v.optional(v.string(), '127.0.0.1'),
    QUEUE_PREFIX: QueuePrefixVar,
    /** How long "already stored" is remembered in Redis; older repeats fall through to the database's unique key. */
    DEDUPE_TTL_SECONDS: intVar(7 * 24 * 3600, 60, 365 * 24 * 3600),
    /** Longest wait between two tries of a failing job. */
    RETRY_MAX_DELAY_MS: intVar(DEFAULT_RETRY_POLICY.maxDelayMs, 10, 24 * 3600 * 1000),
    /**
     * A job whose worker stops renewing its lock (renewed every half of this) this long is taken
     * over by another worker. Shorter means faster recovery, but an event loop blocked this long
     * would lose its jobs to another worker (harmless, processing is idempotent, only wasted).
     */
    JOB_LOCK_MS: intVar(DEFAULT_JOB_LOCK_MS, 1000, 600_000),
    /**
     * How often a worker looks for jobs whose worker died and takes them back. After a crash they
     * are back within JOB_LOCK_MS + STALLED_CHECK_MS at worst (12 s with the defaults).
     */
    STALLED_CHECK_MS: intVar(DEFAULT_STALLED_CHECK_MS, 500, 600_000),
    PG_POOL_MAX: intVar(10, 1, 100),
    /** Destinations beyond the archive: a config file, or one HTTP destination (README, "Delivery"). */
    IMSYNC_SINKS_FILE: v.optional(v.string()),
    SYNC_HTTP_URL: v.optional(v.string()),
    SYNC_HTTP_SECRET: v.optional(v.string()),
    /** Deliveries in flight at once per destination, unless its config says otherwise. */
    DELIVERY_CONCURRENCY: intVar(10, 1, 1000),
    /** Time for in-flight jobs to finish on SIGTERM before the process exits anyway. */
    SHUTDOWN_TIMEOUT_MS: intVar(30_000, 100, 600_000),
    LOG_LEVEL: LogLevelVar,
  }),
  v.partialCheck(
    [['TIM_SDK_APP_ID'], ['TIM_APPS']],
    (c) => c.TIM_SDK_APP_ID !== undefined || c.TIM_APPS !== undefined,
    'TIM_SDK_APP_ID is required (your IM SDKAppID), or TIM_APPS to serve several apps',
  ),
  v.transform((c) => ({
    ...c,
    /** The served SDKAppIDs. */
    apps: new Set(
      mergeApps(c.TIM_APPS, { sdkAppId: c.TIM_SDK_APP_ID, token: undefined }).keys(),
    ) as ReadonlySet<string>,
  })),
);

export type WorkerConfig = v.InferOutput<typeof WorkerEnvSchema>;

export function loadWorkerConfig(env: Env): WorkerConfig {
  return parseConfig(WorkerEnvSchema, env);
}

/** `pnpm migrate` (compose: the migrate service), run as the database owner. */
export const MigrateEnvSchema = v.object({
  DATABASE_URL: urlVar(['postgres:', 'postgresql:']),
  /** The workers' role: granted exactly what the archive writer needs (and created, given a password). */
  ARCHIVE_WRITER_ROLE: v.optional(v.pipe(v.string(), v.regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a plain role name'))),
  ARCHIVE_WRITER_PASSWORD: v.optional(v.pipe(v.string(), v.minLength(12, 'must be at least 12 characters'))),
});
