import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { ConfigError } from './config.js';

type FetchHandler = Parameters<typeof createAdaptorServer>[0]['fetch'];

export interface HttpServerOptions {
  /** A client must have sent its request headers within this long (ms). */
  headersTimeoutMs: number;
  /** ...and its whole request within this long (ms). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long (ms). */
  keepAliveTimeoutMs: number;
  /** Connections open at once; past it Node closes new ones at once. Unbounded when unset. */
  maxConnections?: number;
  /**
   * False when the app reads (or discards) request bodies itself: @hono/node-server's automatic
   * cleanup would close a connection 500 ms after the reply, before a slow client has read it.
   */
  autoCleanupIncoming?: boolean;
}

/** An app's HTTP server with its timeouts enforced, not yet listening (see `listen`). */
export function createHttpServer(app: { fetch: FetchHandler }, options: HttpServerOptions): Server {
  const server = createAdaptorServer({
    fetch: app.fetch,
    autoCleanupIncoming: options.autoCleanupIncoming ?? true,
    serverOptions: {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      // Node enforces both timeouts only when it checks, every 30 s by default: a slow client
      // could hold its socket for half a minute past them.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(options.headersTimeoutMs / 4))),
    },
  }) as Server;
  if (options.maxConnections !== undefined) {
    // Each socket costs memory and a file descriptor whatever it sends: a flood of idle
    // connections must not take the process down with it.
    server.maxConnections = options.maxConnections;
  }
  return server;
}

export interface ListenOptions {
  host: string;
  port: number;
  /** The variable that chose the port, named when the port cannot be had. */
  portVariable: string;
}

/**
 * Listens and resolves with the bound address. A port that is taken or not allowed is a
 * configuration problem, so it rejects with a ConfigError naming the variable that chose it
 * (`startOrExit` prints that as one line) instead of an uncaught `EADDRINUSE` stack trace.
 */
export function listen(server: Server, options: ListenOptions): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const where = `${options.host}:${options.port}`;
      const hint =
        error.code === 'EADDRINUSE'
          ? `${where} is already in use (another imsync process on this host?); set ${options.portVariable} to a free port, or 0 for any free port`
          : error.code === 'EACCES'
            ? `${where} is not allowed for this user; choose a port above 1023`
            : `cannot listen on ${where}: ${error.message}`;
      reject(new ConfigError(`${options.portVariable}: ${hint}`));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options.port, options.host);
  });
}

/**
 * Stops taking connections and resolves once the requests in flight are answered. Keep-alive
 * connections are closed as soon as they are idle, and every reply from now on says
 * `Connection: close`: a client that keeps sending on its connection must not hold the shutdown
 * open (it would, until it stopped sending) but be told to reconnect elsewhere. A server that
 * never started listening is already closed.
 */
export function closeHttpServer(server: Server): Promise<void> {
  if (!server.listening) {
    return Promise.resolve();
  }
  server.on('request', (_request, response) => {
    if (!response.headersSent) {
      response.setHeader('connection', 'close');
    }
  });
  // A request in flight now leaves an idle connection behind when it is answered.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  sweep.unref();
  return new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  }).finally(() => clearInterval(sweep));
}
