import { STATUS_CODES } from 'node:http';
import type { Context, Env, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type {} from 'hono/request-id';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';

/**
 * The JSON body of every error our own HTTP routes answer (the receiver's callback route answers
 * Tencent's reply envelope instead, as Tencent requires).
 */
export interface ErrorEnvelope {
  /** The status's reason phrase ("Forbidden"): bull-board's UI shows it as the headline of its toast. */
  error: string;
  /** Stable and machine-readable (`read_only`): what a client or a test decides on. */
  code: string;
  /** For a person: what happened, and what to do about it (bull-board's UI shows it under the headline). */
  message: string;
  /** The request's X-Request-Id (hono/request-id), also on its log lines; absent without that middleware. */
  requestId?: string;
}

/** Answers `status` with the error envelope. */
export function errorResponse(c: Context, status: ContentfulStatusCode, code: string, message: string): Response {
  const body: ErrorEnvelope = { error: STATUS_CODES[status] ?? 'Error', code, message, requestId: c.get('requestId') };
  return c.json(body, status);
}

/**
 * Unknown routes and thrown errors answer with the envelope too. An HTTPException (a middleware's
 * refusal, such as hono/timeout's) keeps its status and message; anything else is a 500 whose
 * cause goes to the log, never to the client.
 */
export function registerErrorEnvelope<E extends Env>(app: Hono<E>, logger: Logger): void {
  app.notFound((c) => errorResponse(c, 404, 'not_found', `no such route: ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      const reason = STATUS_CODES[status] ?? 'error';
      return errorResponse(c, status, reason.toLowerCase().replaceAll(' ', '_'), error.message || reason);
    }
    const requestId = c.get('requestId');
    logger.error({ requestId, err: error }, 'unexpected error');
    return errorResponse(c, 500, 'internal', `internal error (request ${requestId})`);
  });
}
