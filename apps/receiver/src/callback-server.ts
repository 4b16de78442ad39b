import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';

type FetchHandler = Parameters<typeof createAdaptorServer>[0]['fetch'];

export interface CallbackServerOptions {
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Connections open at once; past it Node closes new ones at once. Unbounded when unset. */
  maxConnections?: number;
}

/**
 * The public HTTP server for the receiver app, not yet listening (`listen` from @imsync/runtime
 * turns a taken port into one line naming PORT). Request bodies are left to `readBody`, which
 * discards unwanted uploads on its own budget: @hono/node-server's automatic cleanup would close
 * such a connection 500 ms after the reply, before a slow client has read it.
 */
export function createCallbackServer(app: { fetch: FetchHandler }, options: CallbackServerOptions = {}): Server {
  // Tencent gives up after 2 s; a client much slower than that is not Tencent and must not hold a socket.
  const headersTimeout = options.headersTimeoutMs ?? 5000;
  const requestTimeout = options.requestTimeoutMs ?? 15_000;
  const server = createAdaptorServer({
    fetch: app.fetch,
    autoCleanupIncoming: false,
    serverOptions: {
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: 65_000,
      // Node enforces both timeouts only when it checks, every 30 s by default: a slow client
      // could hold its socket for half a minute past them.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
  }) as Server;
  if (options.maxConnections !== undefined) {
    // Each socket costs memory and a file descriptor whatever it sends: a flood of idle
    // connections must not take the process down with it.
    server.maxConnections = options.maxConnections;
  }
  return server;
}
