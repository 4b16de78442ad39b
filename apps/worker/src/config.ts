import { AppListSchema, mergeApps, SdkAppIdSchema } from '@imsync/protocol';
import { DEFAULT_RETRY_POLICY, QUEUE_LAYOUT_VARS, REDIS_VARS } from '@imsync/queue';
import { type Env, intVar, LogLevelVar, parseConfig, urlVar } from '@imsync/runtime';
import { TENCENT_API_VARS } from '@imsync/tencent';
import { TRACING_VARS } from '@imsync/tracing';
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
    /** Redis: one server, a Redis Cluster or Sentinel (README, "Scaling past one Redis"). */
    ...REDIS_VARS,
    /** Traces, off unless these say otherwise (README, "Following one message"). */
    ...TRACING_VARS,
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
    ...QUEUE_LAYOUT_VARS,
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
    /**
     * Gap detection and backfill (README, "Messages Tencent never delivered"): on unless `off`.
     * Holes are found and listed for every app; only apps with a secret key are backfilled.
     */
    GAP_DETECTION: v.optional(v.picklist(['on', 'off'], 'must be on or off'), 'on'),
    /** A hole younger than this may still fill by itself (callbacks come late and out of order). */
    GAP_GRACE_SECONDS: intVar(60, 1, 86_400),
    /** How often one worker (whichever takes the job) scans the recently active groups for holes. */
    GAP_SCAN_INTERVAL_MS: intVar(10_000, 100, 3_600_000),
    /** How often each active group's newest seq is asked of Tencent, to find a silent tail. */
    GAP_TAIL_CHECK_SECONDS: intVar(60, 1, 86_400),
    /** Groups with a message this recent are scanned. */
    GAP_ACTIVE_WINDOW_SECONDS: intVar(86_400, 60, 30 * 86_400),
    /** History calls per second at most, across all workers: far under Tencent's app-wide 200/s. */
    BACKFILL_RATE: intVar(20, 1, 200),
    /** History calls in flight at once per worker. */
    BACKFILL_CONCURRENCY: intVar(4, 1, 50),
    ...TENCENT_API_VARS,
    /** With several apps: the secret key of each app to backfill, `SDKAPPID:KEY,…` (TIM_SECRET_KEY serves TIM_SDK_APP_ID). */
    TIM_APP_SECRET_KEYS: v.optional(v.string()),
    /** Time for in-flight jobs to finish on SIGTERM before the process exits anyway. */
    SHUTDOWN_TIMEOUT_MS: intVar(30_000, 100, 600_000),
    LOG_LEVEL: LogLevelVar,
  }),
  v.partialCheck(
    [['TIM_SDK_APP_ID'], ['TIM_APPS']],
    (c) => c.TIM_SDK_APP_ID !== undefined || c.TIM_APPS !== undefined,
    'TIM_SDK_APP_ID is required (your IM SDKAppID), or TIM_APPS to serve several apps',
  ),
  v.partialCheck(
    [['TIM_APP_SECRET_KEYS']],
    (c) => c.TIM_APP_SECRET_KEYS === undefined || secretKeysOf(c.TIM_APP_SECRET_KEYS) !== undefined,
    'TIM_APP_SECRET_KEYS must list SDKAPPID:KEY pairs, comma-separated',
  ),
  v.transform((c) => ({
    ...c,
    /** The secret key of each app that may be backfilled. */
    secretKeys: new Map([
      ...(c.TIM_SDK_APP_ID !== undefined && c.TIM_SECRET_KEY !== undefined
        ? [[c.TIM_SDK_APP_ID, c.TIM_SECRET_KEY] as const]
        : []),
      ...(secretKeysOf(c.TIM_APP_SECRET_KEYS ?? '') ?? []),
    ]) as ReadonlyMap<string, string>,
    /** The served SDKAppIDs. */
    apps: new Set(
      mergeApps(c.TIM_APPS, { sdkAppId: c.TIM_SDK_APP_ID, token: undefined }).keys(),
    ) as ReadonlySet<string>,
  })),
  v.check(
    (c) => c.TIM_SECRET_KEY === undefined || c.TIM_SDK_APP_ID !== undefined,
    'TIM_SECRET_KEY is the key of TIM_SDK_APP_ID, which is not set: with TIM_APPS, give each key in TIM_APP_SECRET_KEYS',
  ),
  v.check(
    (c) => [...c.secretKeys.keys()].every((id) => c.apps.has(id)),
    'TIM_APP_SECRET_KEYS names an app this worker does not serve (add it to TIM_APPS)',
  ),
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

/** `pnpm archive:maintain` (compose: the archive-maintenance service), run as the database owner. */
export const MaintainEnvSchema = v.object({
  DATABASE_URL: urlVar(['postgres:', 'postgresql:']),
  /**
   * Whole days of messages kept in the archive (by the message's own time); older days are
   * dropped a partition at a time. Unset: everything is kept.
   */
  ARCHIVE_RETENTION_DAYS: v.optional(intVar(0, 1, 36_500)),
  /** `true`: log and count the partitions retention would drop, drop none (partitions are still created). */
  ARCHIVE_RETENTION_DRY_RUN: v.optional(v.picklist(['true', 'false'], 'must be true or false'), 'false'),
  /** Days ahead of today (UTC) that get their partition in advance. */
  ARCHIVE_PARTITIONS_AHEAD_DAYS: intVar(7, 1, 90),
  ARCHIVE_MAINTENANCE_INTERVAL_SECONDS: intVar(3600, 10, 86_400),
  /** A DDL statement that waits longer than this for its lock gives up; the next pass tries again. */
  ARCHIVE_MAINTENANCE_LOCK_TIMEOUT_MS: intVar(5000, 100, 600_000),
  /** Port of /healthz, /readyz and /metrics (0: any free port). */
  METRICS_PORT: intVar(9094, 0, 65535),
  METRICS_HOST: v.optional(v.string(), '127.0.0.1'),
  LOG_LEVEL: LogLevelVar,
});

/** `SDKAPPID:KEY,…` as pairs; undefined when malformed. Never part of an error message (a secret). */
function secretKeysOf(text: string): [string, string][] | undefined {
  const pairs: [string, string][] = [];
  for (const entry of text
    .split(',')
    .map((each) => each.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    const key = entry.slice(colon + 1);
    if (colon < 1 || !v.is(SdkAppIdSchema, id) || !/^\S+$/.test(key)) {
      return undefined;
    }
    pairs.push([id, key]);
  }
  return pairs;
}
