import { appRoutes } from '@bull-board/api/dist/routes.js';
import { errorResponse } from '@imsync/runtime';
import type { Context, Hono } from 'hono';

type Params = Record<string, string>;

/**
 * The bull-board actions allowed by default, by bull-board's own route names. Each keeps every
 * message: it puts jobs back to work, pauses the flow, or removes jobs that already finished.
 * Everything else (add, edit or remove a job, empty, obliterate, change a job's delay or priority,
 * a queue's concurrency or rate limit, job schedulers, and any route a later bull-board adds)
 * could delete or forge messages Tencent was already told we have, or events a destination has
 * not been sent, and is refused unless allowed. The routes name no queue: the same rules hold for
 * the ingest queue and for every destination's delivery queue.
 */
export const ALLOWED_ACTIONS: Readonly<Record<string, (params: Params) => boolean>> = {
  'PUT /api/queues/pause': () => true,
  'PUT /api/queues/resume': () => true,
  'PUT /api/queues/:queueName/pause': () => true,
  'PUT /api/queues/:queueName/resume': () => true,
  'PUT /api/queues/:queueName/promote': () => true,
  'PUT /api/queues/:queueName/retry/:queueStatus': () => true,
  'PUT /api/queues/:queueName/:jobId/retry': () => true,
  'PUT /api/queues/:queueName/:jobId/promote': () => true,
  // Cleaning waiting, delayed or active jobs would drop messages not yet stored or delivered.
  'PUT /api/queues/:queueName/clean/:queueStatus': ({ queueStatus }) =>
    queueStatus === 'completed' || queueStatus === 'failed',
};

export const REFUSED = {
  code: 'destructive_action',
  message:
    'this action could delete or forge queued messages, so the dashboard refuses it: allowed are retry, promote, ' +
    'pause, resume and cleaning completed or failed jobs (DASHBOARD_ALLOW_DESTRUCTIVE=true allows the rest)',
};

/** Every state-changing route bull-board serves, as `METHOD /route`, in the order it serves them. */
export const ACTION_ROUTES = appRoutes.api.flatMap(({ method, route }) => {
  const methods = (Array.isArray(method) ? method : [method]).filter((each) => each !== 'get');
  const paths = Array.isArray(route) ? route : [route];
  return methods.flatMap((each) => paths.map((path) => ({ method: each.toUpperCase(), route: path })));
});

/**
 * Refuses (403) every bull-board API call that changes something and is not in ALLOWED_ACTIONS.
 * A guard is registered on each of bull-board's own routes, in bull-board's order, so Hono's
 * router picks for a path the same route (and the same decoded parameters) that bull-board then
 * serves; the first guard that matches decides. A call no route matches changes nothing there,
 * and is refused as well.
 */
export function refuseDestructiveActions(app: Hono, basePath: string): void {
  const decided = new WeakSet<Request>();
  for (const { method, route } of ACTION_ROUTES) {
    const allowed = ALLOWED_ACTIONS[`${method} ${route}`];
    app.on(method, `${basePath}${route}`, async (c, next) => {
      if (decided.has(c.req.raw)) {
        return next();
      }
      decided.add(c.req.raw);
      return allowed?.(c.req.param()) ? next() : refuse(c);
    });
  }
  app.use(`${basePath}/api/*`, async (c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD' || decided.has(c.req.raw) ? next() : refuse(c),
  );
}

function refuse(c: Context) {
  return errorResponse(c, 403, REFUSED.code, REFUSED.message);
}
