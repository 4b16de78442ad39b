import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { type ListenOptions, listen } from './http-server.js';
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
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const address = await listen(server, options);
  return { server, port: address.port };
}
