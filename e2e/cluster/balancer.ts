import { once } from 'node:events';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Balancer {
  /** Where the IM backend sends its callbacks: the balancer's own address, with the receivers' path. */
  readonly callbackUrl: string;
  /** Puts a receiver (its callback URL) into the rotation. */
  add(callbackUrl: string): void;
  /** Takes a receiver out of the rotation: requests already forwarded to it still get its answer. */
  remove(callbackUrl: string): void;
  /** Requests forwarded to each receiver, and the request bodies that reached more than one receiver. */
  spread(): { perReceiver: number[]; bodiesOnSeveral: number };
  close(): Promise<void>;
}

/**
 * A round-robin HTTP load balancer on 127.0.0.1, as one in front of the receivers would be: each
 * request goes to the next receiver in the rotation, so the repeats of a callback reach any of
 * them. A receiver that does not answer gets the client a 502 (the IM backend then retries).
 */
export async function startBalancer(path: string): Promise<Balancer> {
  const rotation: URL[] = [];
  const forwarded = new Map<string, number>();
  // Which receivers each body reached, by receiver origin.
  const reached = new Map<string, Set<string>>();
  const agent = new Agent({ keepAlive: true });
  let next = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    const target = rotation[next++ % rotation.length];
    if (!target) {
      res.writeHead(502).end();
      return;
    }
    forwarded.set(target.origin, (forwarded.get(target.origin) ?? 0) + 1);
    const text = body.toString('utf8');
    reached.set(text, (reached.get(text) ?? new Set()).add(target.origin));
    const upstream = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json', 'content-length': body.length },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'text/plain' });
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502);
      }
      res.end();
    });
    upstream.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    callbackUrl: `http://127.0.0.1:${port}${path}`,
    add(callbackUrl) {
      rotation.push(new URL(callbackUrl));
    },
    remove(callbackUrl) {
      const index = rotation.findIndex((each) => each.href === new URL(callbackUrl).href);
      if (index >= 0) {
        rotation.splice(index, 1);
      }
    },
    spread() {
      return {
        perReceiver: [...forwarded.values()],
        bodiesOnSeveral: [...reached.values()].filter((receivers) => receivers.size > 1).length,
      };
    },
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
