import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  readonly id: string;
  readonly body: string;
  /** Whether the signature verified with standardwebhooks' own `verify`. */
  readonly verified: boolean;
  readonly at: number;
  /** What it was answered (0: held open, never answered). */
  readonly status: number;
}

/** How the destination answers one request: a status (and headers), or never. */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

/**
 * A webhook receiver on 127.0.0.1, as a user's service would be: it verifies every request with
 * `standardwebhooks` and answers as `answer` says (200 by default), recording what it got.
 */
export async function startDestinationServer(secret: string) {
  const webhook = new Webhook(secret);
  const received: Received[] = [];
  let answer: (request: { id: string; attempt: number }) => Answer = () => ({ status: 200 });
  const attempts = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const id = String(req.headers['webhook-id'] ?? '');
    let verified = true;
    try {
      webhook.verify(body, req.headers as Record<string, string>);
    } catch {
      verified = false;
    }
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    const reply = answer({ id, attempt });
    received.push({ id, body, verified, at: Date.now(), status: reply === 'hang' ? 0 : reply.status });
    if (reply === 'hang') {
      hanging.add(res);
      return;
    }
    res.writeHead(reply.status, reply.headers).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    /** Distinct webhook-ids seen. */
    ids: () => new Set(received.map((r) => r.id)),
    /** How many times each webhook-id was answered 2xx (a delivery that counts). */
    delivered: () => {
      const counts = new Map<string, number>();
      for (const r of received.filter((each) => each.status >= 200 && each.status < 300)) {
        counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
      }
      return counts;
    },
    answer(next: typeof answer) {
      answer = next;
    },
    async close() {
      for (const res of hanging) {
        res.destroy();
      }
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export type DestinationServer = Awaited<ReturnType<typeof startDestinationServer>>;
