import type { Server } from 'node:http';
import { createHttpServer } from '@imsync/runtime';

export interface CallbackServerOptions {
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Connections open at once; past it Node closes new ones at once. Unbounded when unset. */
  maxConnections?: number;
}

/**
 * The public HTTP server for the receiver app, not yet listening. Request bodies are left to
 * `readBody`, which discards unwanted uploads on its own budget.
 */
export function createCallbackServer(
  app: Parameters<typeof createHttpServer>[0],
  options: CallbackServerOptions = {},
): Server {
  return createHttpServer(app, {
    // Tencent gives up after 2 s; a client much slower than that is not Tencent and must not hold a socket.
    headersTimeoutMs: options.headersTimeoutMs ?? 5000,
    requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
    keepAliveTimeoutMs: 65_000,
    maxConnections: options.maxConnections,
    autoCleanupIncoming: false,
  });
}
