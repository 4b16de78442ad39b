import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from './config.js';

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
 * Stops taking connections and resolves once the requests in flight are answered. Idle
 * keep-alive connections are closed at once, so a quiet client cannot hold the shutdown open.
 * A server that never started listening is already closed.
 */
export function closeHttpServer(server: Server): Promise<void> {
  if (!server.listening) {
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}
