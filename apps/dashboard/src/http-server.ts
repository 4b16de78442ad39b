import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';

type FetchHandler = Parameters<typeof createAdaptorServer>[0]['fetch'];

export interface DashboardServerOptions {
  /** A client must have sent its request headers within this long (ms). */
  headersTimeoutMs?: number;
  /** ...and its whole request (the login form, an action's body) within this long (ms). */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this long (ms). */
  keepAliveTimeoutMs?: number;
}

/**
 * The dashboard's HTTP server, not yet listening (`listen` from @imsync/runtime does that). Its
 * requests are small, so a client that sends them slowly is holding a socket on purpose.
 */
export function createDashboardServer(app: { fetch: FetchHandler }, options: DashboardServerOptions = {}): Server {
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  return createAdaptorServer({
    fetch: app.fetch,
    serverOptions: {
      headersTimeout,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      // A browser reopens an idle connection cheaply; closing it soon bounds how many one client holds.
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5000,
      // Node enforces both timeouts only when it checks, every 30 s by default: a slow client
      // could hold its socket for half a minute past them.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
  }) as Server;
}
