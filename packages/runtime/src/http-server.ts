import type { Server } from 'node:http';

/**
 * Stops taking connections and resolves once the requests in flight are answered. Idle
 * keep-alive connections are closed at once, so a quiet client cannot hold the shutdown open.
 */
export function closeHttpServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}
