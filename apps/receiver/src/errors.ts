import { failReply } from '@imsync/protocol';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from './app-env.js';
import { echoRequestId } from './request-id.js';

/**
 * Every way a callback can be refused, with its HTTP status and the `ErrorCode` of the reply.
 * Codes are the status times 100 plus a reason, so logs and replies can be matched at a glance.
 */
export const REJECTIONS = {
  invalid_json: { status: 400, code: 40001 },
  invalid_encoding: { status: 400, code: 40002 },
  json_too_deep: { status: 400, code: 40003 },
  body_incomplete: { status: 400, code: 40004 },
  signature_missing: { status: 401, code: 40101 },
  signature_malformed: { status: 401, code: 40102 },
  signature_stale: { status: 401, code: 40103 },
  signature_mismatch: { status: 401, code: 40104 },
  wrong_app: { status: 403, code: 40301 },
  not_found: { status: 404, code: 40401 },
  method_not_allowed: { status: 405, code: 40501 },
  body_too_large: { status: 413, code: 41301 },
  command_mismatch: { status: 422, code: 42201 },
  schema: { status: 422, code: 42202 },
  forbidden_key: { status: 422, code: 42203 },
  internal: { status: 500, code: 50001 },
  queue_unavailable: { status: 503, code: 50301 },
} as const satisfies Record<string, { status: ContentfulStatusCode; code: number }>;

export type RejectionReason = keyof typeof REJECTIONS;

/** A refusal with a reason; `app.onError` turns it into the reply envelope. */
export class Rejection extends Error {
  override readonly name = 'Rejection';
  constructor(
    readonly reason: RejectionReason,
    message: string,
    readonly headers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The one error envelope: Tencent's reply shape with `ActionStatus: "FAIL"`. */
export function rejectionResponse(c: Context<AppEnv>, rejection: Rejection): Response {
  const { status, code } = REJECTIONS[rejection.reason];
  echoRequestId(c);
  for (const [name, value] of Object.entries(rejection.headers)) {
    c.header(name, value);
  }
  return c.json(failReply(code, rejection.message), status);
}
