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
    received.push({ id, body, verified, at: Date.now() });
    const reply = answer({ id, attempt });
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
    /** Distinct webhook-ids answered 2xx... by the default answer: ids seen at least once. */
    ids: () => new Set(received.map((r) => r.id)),
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
