import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RedisClient } from '@imsync/queue';
import { errorResponse } from '@imsync/runtime';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import { createSessionStore, SESSION_SECONDS } from './sessions.js';

export const SESSION_COOKIE = 'imsync_session';

export interface Credentials {
  user: string;
  password: string;
}

export interface AuthOptions {
  credentials: Credentials;
  /** Signs session cookies and keys the credentials' fingerprint; random per process when unset. */
  secret?: string;
  /** Holds the sessions. */
  redis: RedisClient;
  /** QUEUE_PREFIX: session keys sit beside the queues they give access to. */
  keyPrefix: string;
  now?: () => number;
}

export interface Auth {
  /** Constant-time: the time taken says nothing about how much of either value matched. */
  check(user: string, password: string): boolean;
  /** Rejects when Redis is unavailable: no session can start then. */
  startSession(c: Context): Promise<void>;
  /** Ends the session in Redis (rejects when Redis is unavailable, keeping the cookie) and clears the cookie. */
  endSession(c: Context): Promise<void>;
  /** False without a live session for the credentials in force, and while Redis is unavailable. */
  hasSession(c: Context): Promise<boolean>;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Login with one set of credentials and a session kept in Redis, named by a signed cookie. The
 * cookie is HttpOnly and SameSite=Strict: browsers never send it with a request another site
 * started, which is what makes the dashboard's actions safe from cross-site request forgery.
 * A session holds a fingerprint of the credentials it was started with: once the password
 * changes (and the dashboard restarts), every session started with the old one is refused.
 */
export function createAuth(options: AuthOptions): Auth {
  const { credentials, secret = randomBytes(32).toString('hex'), now = () => Date.now() } = options;
  const user = digest(credentials.user);
  const password = digest(credentials.password);
  const fingerprint = createHmac('sha256', secret)
    .update(`${credentials.user}\0${credentials.password}`, 'utf8')
    .digest('hex');
  const sessions = createSessionStore(options.redis, options.keyPrefix, now);
  const sessionId = async (c: Context) => {
    const value = await getSignedCookie(c, secret, SESSION_COOKIE);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return {
    check(givenUser, givenPassword) {
      // Both comparisons always run, so a wrong user costs the same as a wrong password.
      const userOk = timingSafeEqual(user, digest(givenUser));
      const passwordOk = timingSafeEqual(password, digest(givenPassword));
      return userOk && passwordOk;
    },
    async startSession(c) {
      const id = await sessions.create(fingerprint);
      await setSignedCookie(c, SESSION_COOKIE, id, secret, {
        httpOnly: true,
        sameSite: 'Strict',
        // Behind a TLS-terminating proxy the request we see is plain HTTP; the proxy says so.
        secure: new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https',
        path: '/',
        maxAge: SESSION_SECONDS,
      });
    },
    async endSession(c) {
      const id = await sessionId(c);
      if (id !== undefined) {
        await sessions.end(id);
      }
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
    },
    async hasSession(c) {
      const id = await sessionId(c);
      if (id === undefined) {
        return false;
      }
      try {
        const held = await sessions.fingerprint(id);
        return held !== undefined && timingSafeEqual(digest(held), digest(fingerprint));
      } catch {
        // Redis unavailable: no way to tell whether the session was ended, so it is not a session.
        return false;
      }
    },
  };
}

/**
 * Refuses state-changing requests a browser made for another site (a second line behind the
 * SameSite cookie): the Origin or Sec-Fetch-Site header must say the request came from here.
 */
export function sameOriginOnly(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') {
      return next();
    }
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    const host = c.req.header('host');
    const sameSite = site === undefined || site === 'same-origin' || site === 'none';
    const sameOrigin = origin === undefined || (host !== undefined && originHost(origin) === host);
    if (!sameSite || !sameOrigin) {
      return errorResponse(c, 403, 'cross_site', 'cross-site request refused');
    }
    return next();
  };
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    // "null" (sandboxed frames, some redirects) or garbage: never ours.
    return undefined;
  }
}
