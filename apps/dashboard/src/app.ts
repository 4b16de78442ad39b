import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { type Logger, registerOpsRoutes } from '@imsync/runtime';
import type { Queue } from 'bullmq';
import { Hono } from 'hono';
import { timeout } from 'hono/timeout';
import type { Registry } from 'prom-client';
import { type Auth, sameOriginOnly } from './auth.js';
import { loginPage } from './login-page.js';

export const BOARD_PATH = '/queues';

const LOOPBACK_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

export interface DashboardDeps {
  queues: readonly Queue[];
  /** Absent in local-only mode: no login. */
  auth: Auth | undefined;
  readOnly: boolean;
  logger: Logger;
  registry: Registry;
  ping: () => Promise<unknown>;
  isAccepting?: () => boolean;
}

/** bull-board for imsync's queues, behind a login, with health and metrics routes. */
export function createDashboardApp(deps: DashboardDeps): Hono {
  const { auth, logger } = deps;
  const app = new Hono();

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    if (!c.req.path.startsWith(`${BOARD_PATH}/static`)) {
      logger.info(
        {
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
      LOOPBACK_HOST.test(c.req.header('host') ?? '') ? next() : c.json({ error: 'local-only dashboard' }, 421),
    );
  }
  // bull-board's calls wait on Redis; while Redis is away, answer instead of hanging.
  app.use(`${BOARD_PATH}/api/*`, timeout(5000));

  registerOpsRoutes(app, { registry: deps.registry, isAccepting: deps.isAccepting, checks: { redis: deps.ping } });
  app.get('/', (c) => c.redirect(BOARD_PATH));

  if (auth) {
    app.get('/login', (c) => c.html(loginPage(c.req.query('error') !== undefined, safeNext(c.req.query('next')))));
    app.post('/login', async (c) => {
      const form = await c.req.parseBody();
      const next = safeNext(typeof form.next === 'string' ? form.next : undefined);
      if (auth.check(String(form.user ?? ''), String(form.password ?? ''))) {
        await auth.startSession(c);
        logger.info('dashboard login');
        return c.redirect(next, 303);
      }
      logger.warn('dashboard login failed');
      // A pause makes guessing slow without locking the real user out.
      await new Promise((resolve) => setTimeout(resolve, 500));
      return c.redirect(`/login?error&next=${encodeURIComponent(next)}`, 303);
    });
    app.post('/logout', (c) => {
      auth.endSession(c);
      return c.redirect('/login', 303);
    });
    app.use(`${BOARD_PATH}/*`, async (c, next) => {
      if (await auth.hasSession(c)) {
        return next();
      }
      return c.req.path.startsWith(`${BOARD_PATH}/api/`)
        ? c.json({ error: 'sign in first' }, 401)
        : c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`);
    });
  }

  if (deps.readOnly) {
    // bull-board hides the buttons in read-only mode; this makes sure its API refuses them too.
    app.use(`${BOARD_PATH}/api/*`, async (c, next) =>
      c.req.method === 'GET' ? next() : c.json({ error: 'the dashboard is read-only' }, 403),
    );
  }

  const board = new HonoAdapter(serveStatic);
  createBullBoard({
    queues: deps.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: deps.readOnly })),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'imsync' } },
  });
  board.setBasePath(BOARD_PATH);
  app.route(BOARD_PATH, board.registerPlugin());
  return app;
}

const HERE = 'http://dashboard.invalid';

/**
 * Only paths on this site: an open redirect after login would send users anywhere. Resolved the way
 * a browser would (so `/\evil.example` and friends count as other sites) and kept if it stays here.
 */
function safeNext(next: string | undefined): string {
  if (!next) {
    return BOARD_PATH;
  }
  try {
    const url = new URL(next, HERE);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused here.
    return url.origin === HERE && next.startsWith('/') && !/[\\\u0000-\u001f]/.test(next)
      ? `${url.pathname}${url.search}${url.hash}`
      : BOARD_PATH;
  } catch {
    return BOARD_PATH;
  }
}
