import { createSignatureVerifier } from '@imsync/protocol';
import type { Producer } from '@imsync/queue';
import type { Logger } from '@imsync/runtime';
import { contextOfHeaders, inSpan, SpanKind, SpanStatusCode } from '@imsync/tracing';
import { Hono } from 'hono';
import type { AppEnv } from './app-env.js';
import { refuseUnreadBody, unreadBudget } from './body.js';
import type { ReceiverConfig } from './config.js';
import { Rejection, rejectionResponse } from './errors.js';
import type { CallbackOutcome, ReceiverMetrics } from './metrics.js';
import { echoRequestId, requestIdVariable } from './request-id.js';
import { registerCallbackRoute } from './routes/callback.js';

export interface ReceiverDeps {
  config: Pick<
    ReceiverConfig,
    | 'apps'
    | 'TIM_COMMANDS'
    | 'TIM_CALLBACK_AUTH'
    | 'CALLBACK_PATH'
    | 'BODY_LIMIT_BYTES'
    | 'MAX_JSON_DEPTH'
    | 'SIGNATURE_WINDOW_SECONDS'
    | 'LOG_CALLBACKS'
  >;
  producer: Producer;
  logger: Logger;
  metrics: ReceiverMetrics;
  /** ms since the epoch; tests pin it to check the signature window. */
  clock?: () => number;
}

/**
 * The receiver's public app: the callback route and `/healthz`, nothing else. No ports, no env,
 * no globals, so tests drive it with `app.request()`. `/readyz` and `/metrics` tell what a
 * stranger must not learn (dependency errors, traffic): they are on the ops server (`ops.ts`).
 */
export function createApp(deps: ReceiverDeps): Hono<AppEnv> {
  const { config, logger, metrics } = deps;
  const clock = deps.clock ?? Date.now;
  const app = new Hono<AppEnv>();
  // A line per accepted callback is most of the log at load; LOG_CALLBACKS can keep only refusals.
  const logsCallback = (outcome: CallbackOutcome) =>
    config.LOG_CALLBACKS === 'all' ||
    (config.LOG_CALLBACKS === 'rejected' && (outcome === 'rejected' || outcome === 'unavailable'));

  app.use(requestIdVariable());
  // A span per callback (a trace's root, or the caller's child when it sends a traceparent).
  app.use(config.CALLBACK_PATH, (c, next) =>
    inSpan(
      `${c.req.method} callback`,
      { kind: SpanKind.SERVER, parent: contextOfHeaders(c.req.header()) },
      async (span) => {
        await next();
        span.setAttributes({
          'http.request.method': c.req.method,
          'http.response.status_code': c.res.status,
          'imsync.request_id': c.get('requestId'),
          'imsync.outcome': c.get('outcome') ?? (c.res.status >= 500 ? 'unavailable' : 'rejected'),
          ...(c.get('app') && { 'imsync.app': c.get('app') }),
          ...(c.get('command') && { 'imsync.command': c.get('command') }),
          ...(c.get('reason') && { 'imsync.reason': c.get('reason') }),
          ...(c.get('jobId') && { 'imsync.job_id': c.get('jobId') }),
        });
        if (c.res.status >= 500) {
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      },
    ),
  );
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    if (c.req.path !== config.CALLBACK_PATH) {
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    const outcome: CallbackOutcome = c.get('outcome') ?? (c.res.status >= 500 ? 'unavailable' : 'rejected');
    const reason = c.get('reason') ?? '';
    // Bounded labels: a served SDKAppID (never what a stranger sent) and a catalog command or "other".
    const app = c.get('app') ?? '';
    const command = c.get('command') ?? '';
    metrics.callbackAnswered(outcome, reason, app, command, seconds);
    if (!logsCallback(outcome)) {
      return;
    }
    const line = {
      requestId: c.get('requestId'),
      status: c.res.status,
      durationMs: Math.round(seconds * 10_000) / 10,
      outcome,
      ...(app && { app }),
      ...(command && { command }),
      ...(reason && { reason }),
      ...(c.get('jobId') && { jobId: c.get('jobId') }),
    };
    if (outcome === 'unavailable') {
      logger.error(line, 'callback');
    } else {
      logger[outcome === 'rejected' ? 'warn' : 'info'](line, 'callback');
    }
  });

  // Load balancers probe the public port; the answer says the process runs, nothing more.
  app.get('/healthz', (c) => {
    echoRequestId(c);
    return c.json({ status: 'ok' });
  });

  registerCallbackRoute(app, {
    path: config.CALLBACK_PATH,
    // Each app's signature is checked with its own tokens only.
    apps: new Map(
      [...config.apps].map(([sdkAppId, tokens]) => [
        sdkAppId,
        config.TIM_CALLBACK_AUTH === 'off'
          ? undefined
          : createSignatureVerifier({ tokens, windowSeconds: config.SIGNATURE_WINDOW_SECONDS, now: clock }),
      ]),
    ),
    commands: config.TIM_COMMANDS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    maxJsonDepth: config.MAX_JSON_DEPTH,
    producer: deps.producer,
    clock,
  });

  const unread = unreadBudget(config.BODY_LIMIT_BYTES);
  app.notFound((c) => {
    refuseUnreadBody(c, unread);
    return rejectionResponse(c, new Rejection('not_found', 'no such route'));
  });
  app.onError((error, c) => {
    if (error instanceof Rejection) {
      c.set('reason', error.reason);
      if (error.cause) {
        logger.error({ requestId: c.get('requestId'), err: error.cause }, error.message);
      }
      return rejectionResponse(c, error);
    }
    logger.error({ requestId: c.get('requestId'), err: error }, 'unexpected error');
    c.set('reason', 'internal');
    return rejectionResponse(c, new Rejection('internal', `internal error (request ${c.get('requestId')})`));
  });
  return app;
}
