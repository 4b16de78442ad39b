import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { CALLBACK_CATALOG } from '@imsync/protocol';
import { BACKFILL_QUEUE, INGEST_QUEUE, shardOfQueueName } from '@imsync/queue';
import { errorResponse, type Logger, registerErrorEnvelope, registerOpsRoutes } from '@imsync/runtime';
import type { Queue } from 'bullmq';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { timeout } from 'hono/timeout';
import type { Registry } from 'prom-client';
import { refuseDestructiveActions } from './action-policy.js';
import { type Auth, sameOriginOnly } from './auth.js';
import type { DestinationQueues } from './destination-queues.js';
import { type LoginLimits, registerLoginRoutes } from './login.js';

const BOARD_PATH = '/queues';

const LOOPBACK_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

export interface DashboardDeps {
  /** The queues shown from the start: the ingest queue. */
  queues: readonly Queue[];
  /** The destinations' delivery queues, each shown once found (none when absent). */
  destinations?: DestinationQueues;
  /** Absent in local-only mode: no login. */
  auth: Auth | undefined;
  readOnly: boolean;
  /** Also allow the actions that delete or forge messages (DASHBOARD_ALLOW_DESTRUCTIVE). */
  allowDestructive: boolean;
  /** Take the client address from X-Forwarded-For (DASHBOARD_TRUST_PROXY). */
  trustProxy: boolean;
  loginLimits: LoginLimits;
  logger: Logger;
  registry: Registry;
  ping: () => Promise<unknown>;
  isAccepting?: () => boolean;
  now?: () => number;
}

/** bull-board for imsync's queues, behind a login, with health and metrics routes. */
export function createDashboardApp(deps: DashboardDeps): Hono {
  const { auth, logger } = deps;
  const app = new Hono();

  app.use(requestId());
  registerErrorEnvelope(app, logger);
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    if (!c.req.path.startsWith(`${BOARD_PATH}/static`)) {
      logger.info(
        {
          requestId: c.get('requestId'),
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
        },
        'request',
      );
    }
  });
  app.use(sameOriginOnly());
  if (!auth) {
    // Without a login, only a browser on this machine may talk to us: a page elsewhere could
    // otherwise point its own host name at 127.0.0.1 (DNS rebinding) and read the queues.
    app.use(async (c, next) =>
      LOOPBACK_HOST.test(c.req.header('host') ?? '')
        ? next()
        : errorResponse(c, 421, 'local_only', 'this dashboard answers requests for localhost, 127.0.0.1 or [::1] only'),
    );
  }
  // bull-board's calls wait on Redis; while Redis is away, answer instead of hanging.
  app.use(
    `${BOARD_PATH}/api/*`,
    timeout(5000, new HTTPException(504, { message: 'the queues did not answer within 5 s: is Redis down?' })),
  );

  registerOpsRoutes(app, { registry: deps.registry, isAccepting: deps.isAccepting, checks: { redis: deps.ping } });
  app.get('/', (c) => c.redirect(BOARD_PATH));

  if (auth) {
    registerLoginRoutes(app, {
      auth,
      logger,
      home: BOARD_PATH,
      trustProxy: deps.trustProxy,
      limits: deps.loginLimits,
      now: deps.now ?? (() => Date.now()),
    });
    app.use(`${BOARD_PATH}/*`, async (c, next) => {
      if (await auth.hasSession(c)) {
        return next();
      }
      return c.req.path.startsWith(`${BOARD_PATH}/api/`)
        ? errorResponse(c, 401, 'sign_in_required', 'sign in first')
        : c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`);
    });
  }

  if (deps.readOnly) {
    // bull-board hides the buttons in read-only mode; this makes sure its API refuses them too.
    app.use(`${BOARD_PATH}/api/*`, async (c, next) =>
      c.req.method === 'GET' ? next() : errorResponse(c, 403, 'read_only', 'the dashboard is read-only'),
    );
  } else if (!deps.allowDestructive) {
    // bull-board has no option to hide single buttons: they stay, and answer with this refusal.
    refuseDestructiveActions(app, BOARD_PATH);
  }

  const board = new HonoAdapter(serveStatic);
  const adapter = (queue: Queue, description: string) =>
    new BullMQAdapter(queue, { readOnlyMode: deps.readOnly, description });
  const bullBoard = createBullBoard({
    queues: deps.queues.map((queue) => adapter(queue, queueDescription(queue.name))),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'imsync' } },
  });
  // bull-board reads its queues at each request: one added now is served from the next one on.
  deps.destinations?.onFound(({ destination, queue }) =>
    bullBoard.addQueue(adapter(queue, deliveryDescription(destination))),
  );
  board.setBasePath(BOARD_PATH);
  app.route(BOARD_PATH, board.registerPlugin());
  return app;
}

/** What a queue carries, from the callback catalog: its job names and the commands behind them. */
function queueDescription(queueName: string): string {
  if (queueName === BACKFILL_QUEUE) {
    return (
      'Gap detection and backfill: a scan job per period that finds MsgSeq holes, and one job per page of ' +
      "Tencent's group history to fetch for a hole; recovered messages go to the ingest queue."
    );
  }
  const shard = shardOfQueueName(queueName);
  if (queueName !== INGEST_QUEUE && shard === undefined) {
    return '';
  }
  const kinds = new Map<string, string[]>();
  for (const definition of Object.values(CALLBACK_CATALOG)) {
    kinds.set(definition.job, [...(kinds.get(definition.job) ?? []), definition.command]);
  }
  const which =
    shard === undefined ? 'Every stored callback' : `Shard ${shard} of the stored callbacks (by app and group)`;
  return `${which}, one job per event: ${[...kinds]
    .map(([job, commands]) => `${job} (${commands.join(', ')})`)
    .join('; ')}.`;
}

/** What a destination's queue is for, and what the board's buttons do to it. */
function deliveryDescription(destination: string): string {
  return (
    `Deliveries to ${destination}: one job per archived event to send there. Its failed set is its ` +
    'dead-letter queue (events it refused for good or that ran out of retries); retry re-sends them, ' +
    'pause stops deliveries to it, resume starts them again.'
  );
}
