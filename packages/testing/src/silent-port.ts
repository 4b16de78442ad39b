import { type AddressInfo, createServer, type Socket } from 'node:net';

/**
 * A port that accepts connections and never answers, held until close(): a client pointed at it
 * never gets ready. A merely free port could be taken meanwhile by another test's server, and
 * the client would connect to that instead (it happened).
 */
export async function holdSilentPort(): Promise<{ port: number; close(): Promise<void> }> {
  const held = new Set<Socket>();
  const server = createServer((socket) => held.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      for (const socket of held) {
        socket.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
