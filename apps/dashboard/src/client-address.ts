import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/**
 * Who sent the request, for the login log and its rate limit: the socket's peer, or, behind a
 * trusted proxy, the right-most X-Forwarded-For entry. That entry is the one the proxy itself
 * appended; anything left of it was written by the client and could name anyone.
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = (c.req.header('x-forwarded-for') ?? '')
      .split(',')
      .map((each) => each.trim())
      .filter(Boolean)
      .at(-1);
    if (forwarded) {
      return forwarded;
    }
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // Not served by @hono/node-server (app.request without a socket): no peer to name.
    return 'unknown';
  }
}
