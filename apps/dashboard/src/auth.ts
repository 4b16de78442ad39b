import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';

export const SESSION_COOKIE = 'imsync_session';
const SESSION_SECONDS = 12 * 3600;

export interface Credentials {
  user: string;
  password: string;
}

export interface Auth {
  /** Constant-time: the time taken says nothing about how much of either value matched. */
  check(user: string, password: string): boolean;
  startSession(c: Context): Promise<void>;
  endSession(c: Context): void;
  hasSession(c: Context): Promise<boolean>;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Login with one set of credentials and a signed session cookie. The cookie is HttpOnly and
 * SameSite=Strict: browsers never send it with a request another site started, which is what
 * makes the dashboard's actions safe from cross-site request forgery.
 */
export function createAuth(credentials: Credentials, secret = randomBytes(32).toString('hex')): Auth {
  const user = digest(credentials.user);
  const password = digest(credentials.password);
  return {
    check(givenUser, givenPassword) {
      // Both comparisons always run, so a wrong user costs the same as a wrong password.
      const userOk = timingSafeEqual(user, digest(givenUser));
      const passwordOk = timingSafeEqual(password, digest(givenPassword));
      return userOk && passwordOk;
    },
    async startSession(c) {
      const expires = Date.now() + SESSION_SECONDS * 1000;
      await setSignedCookie(c, SESSION_COOKIE, String(expires), secret, {
        httpOnly: true,
        sameSite: 'Strict',
        // Behind a TLS-terminating proxy the request we see is plain HTTP; the proxy says so.
        secure: new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https',
        path: '/',
        maxAge: SESSION_SECONDS,
      });
    },
    endSession(c) {
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
    },
    async hasSession(c) {
      const value = await getSignedCookie(c, secret, SESSION_COOKIE);
      return typeof value === 'string' && Number(value) > Date.now();
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
      return c.json({ error: 'cross-site request refused' }, 403);
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
