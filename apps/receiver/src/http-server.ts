import type { Server } from 'node:http';
import { serve } from '@hono/node-server';

type FetchHandler = Parameters<typeof serve>[0]['fetch'];

export interface HttpServerOptions {
  hostname: string;
  port: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/**
 * Serves the receiver app. Request bodies are left to `readBody`, which discards an oversized
 * upload on its own budget: @hono/node-server's automatic cleanup would close such a connection
 * 500 ms after the 413, before a slow client has read it.
 */
export function startHttpServer(app: { fetch: FetchHandler }, options: HttpServerOptions): Promise<Server> {
  // Tencent gives up after 2 s; a client much slower than that is not Tencent and must not hold a socket.
  const headersTimeout = options.headersTimeoutMs ?? 5000;
  const requestTimeout = options.requestTimeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: app.fetch,
        hostname: options.hostname,
        port: options.port,
        autoCleanupIncoming: false,
        serverOptions: {
          headersTimeout,
          requestTimeout,
          keepAliveTimeout: 65_000,
          // Node enforces both timeouts only when it checks, every 30 s by default: a slow client
          // could hold its socket for half a minute past them.
          connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
        },
      },
      () => resolve(server),
    ) as Server;
    server.once('error', reject);
  });
}
