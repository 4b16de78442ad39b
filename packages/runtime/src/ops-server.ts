import type { Server } from 'node:http';
import { Hono } from 'hono';
import { createHttpServer, type ListenOptions, listen } from './http-server.js';
import { type OpsRoutesOptions, registerOpsRoutes } from './ops-routes.js';

export interface OpsServer {
  readonly server: Server;
  /** The port actually bound (differs from the configured one when that was 0). */
  readonly port: number;
}

/**
 * `/healthz`, `/readyz` and `/metrics` on a port of their own, apart from any public route, so
 * what they tell (dependency errors, traffic) stays with whoever can reach the ops address.
 */
export async function startOpsServer(options: OpsRoutesOptions & ListenOptions): Promise<OpsServer> {
  const app = new Hono();
  registerOpsRoutes(app, options);
  // Scrapers and probes send small requests quickly; anything slower is not one of them.
  const server = createHttpServer(app, {
    headersTimeoutMs: 5000,
    requestTimeoutMs: 10_000,
    keepAliveTimeoutMs: 65_000,
  });
  const address = await listen(server, options);
  return { server, port: address.port };
}
