import type { Server } from 'node:http';
import { createHttpServer } from '@imsync/runtime';

export interface DashboardServerOptions {
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

/**
 * The dashboard's HTTP server, not yet listening. Its requests are small, so a client that sends
 * them slowly is holding a socket on purpose.
 */
export function createDashboardServer(
  app: Parameters<typeof createHttpServer>[0],
  options: DashboardServerOptions = {},
): Server {
  return createHttpServer(app, {
    headersTimeoutMs: options.headersTimeoutMs ?? 10_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    // A browser reopens an idle connection cheaply; closing it soon bounds how many one client holds.
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 5000,
  });
}
