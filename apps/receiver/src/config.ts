import { DEFAULT_MAX_JSON_DEPTH, DEFAULT_SIGNATURE_WINDOW_SECONDS, MAX_JSON_DEPTH_LIMIT } from '@imsync/protocol';
import { DEFAULT_RETRY_POLICY, QueuePrefixVar } from '@imsync/queue';
import { type Env, intVar, LogLevelVar, parseConfig, urlVar } from '@imsync/runtime';
import * as v from 'valibot';

export const ReceiverEnvSchema = v.object({
  /** Redis holding the queue; a 200 is sent only once the job is in it. */
  REDIS_URL: urlVar(['redis:', 'rediss:']),
  /** Your IM app's SDKAppID; callbacks for any other app are refused with 403. */
  TIM_SDK_APP_ID: v.pipe(v.string('is required (your IM SDKAppID)'), v.regex(/^\d{1,20}$/, 'must be digits')),
  /** The console's callback authentication token; when set, `Sign` and `RequestTime` are required. */
  TIM_CALLBACK_TOKEN: v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty when set'), v.maxLength(128))),
  PORT: intVar(8080, 0, 65535),
  HOST: v.optional(v.string(), '0.0.0.0'),
  CALLBACK_PATH: v.optional(v.pipe(v.string(), v.startsWith('/', 'must start with /')), '/im/callback'),
  BODY_LIMIT_BYTES: intVar(1024 * 1024, 1024, 64 * 1024 * 1024),
  MAX_JSON_DEPTH: intVar(DEFAULT_MAX_JSON_DEPTH, 8, MAX_JSON_DEPTH_LIMIT),
  SIGNATURE_WINDOW_SECONDS: intVar(DEFAULT_SIGNATURE_WINDOW_SECONDS, 1, 3600),
  /** A Redis write slower than this fails the request with 503, well within Tencent's 2 s. */
  ENQUEUE_TIMEOUT_MS: intVar(1000, 50, 1900),
  JOB_ATTEMPTS: intVar(DEFAULT_RETRY_POLICY.attempts, 1, 1000),
  JOB_BACKOFF_MS: intVar(DEFAULT_RETRY_POLICY.baseDelayMs, 1, 3600 * 1000),
  QUEUE_PREFIX: QueuePrefixVar,
  /** A client that has not sent its request headers after this long is disconnected (slowloris). */
  HTTP_HEADERS_TIMEOUT_MS: intVar(5000, 100, 120_000),
  /** A client that has not sent its whole request after this long is disconnected. */
  HTTP_REQUEST_TIMEOUT_MS: intVar(15_000, 100, 600_000),
  /** Time for in-flight requests to finish on SIGTERM before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: intVar(10_000, 100, 600_000),
  LOG_LEVEL: LogLevelVar,
});

export type ReceiverConfig = v.InferOutput<typeof ReceiverEnvSchema>;

export function loadReceiverConfig(env: Env): ReceiverConfig {
  return parseConfig(ReceiverEnvSchema, env);
}
