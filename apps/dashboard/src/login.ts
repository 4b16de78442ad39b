import type { Logger } from '@imsync/runtime';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Auth } from './auth.js';
import { clientAddress } from './client-address.js';
import { loginPage } from './login-page.js';
import { createRateLimiter } from './rate-limit.js';
import { safeNext } from './safe-next.js';

/** A login form is a user name, a password and a path: a few hundred bytes. */
export const LOGIN_BODY_BYTES = 4096;
const LOGIN_FAILURE_WINDOW_MS = 15 * 60_000;

export interface LoginLimits {
  /** Failed logins allowed from one client address per 15 minutes. */
  perAddress: number;
  /** Failed logins allowed in all per 15 minutes: many addresses guessing together stop there. */
  total: number;
}

export interface LoginDeps {
  auth: Auth;
  logger: Logger;
  /** Where a login leads when it names no page (or a page elsewhere). */
  home: string;
  trustProxy: boolean;
  limits: LoginLimits;
  now: () => number;
}

const WRONG = 'Wrong user name or password.';

/** GET/POST /login and POST /logout. Every line logged about a login names the client address. */
export function registerLoginRoutes(app: Hono, deps: LoginDeps): void {
  const { auth, logger } = deps;
  const window = { windowMs: LOGIN_FAILURE_WINDOW_MS, now: deps.now };
  const perAddress = createRateLimiter({ limit: deps.limits.perAddress, ...window });
  const total = createRateLimiter({ limit: deps.limits.total, ...window });
  const next = (value: unknown) => safeNext(typeof value === 'string' ? value : undefined, deps.home);

  app.get('/login', (c) =>
    c.html(loginPage(c.req.query('error') !== undefined ? WRONG : undefined, next(c.req.query('next')))),
  );

  app.post(
    '/login',
    bodyLimit({
      maxSize: LOGIN_BODY_BYTES,
      onError: (c) => {
        logger.warn({ clientAddress: clientAddress(c, deps.trustProxy) }, 'dashboard login refused: form too large');
        return c.text('login form too large', 413);
      },
    }),
    async (c) => {
      const from = clientAddress(c, deps.trustProxy);
      const form = await c.req.parseBody();
      const target = next(form.next);
      // Checked before the password, which is then not even compared: a guess made now tells nothing.
      const waitSeconds = Math.max(perAddress.blockedForSeconds(from), total.blockedForSeconds(''));
      if (waitSeconds > 0) {
        logger.warn(
          { clientAddress: from, retryAfterSeconds: waitSeconds },
          'dashboard login refused: too many failures',
        );
        c.header('Retry-After', String(waitSeconds));
        const minutes = Math.ceil(waitSeconds / 60);
        return c.html(loginPage(`Too many failed sign-ins. Try again in ${minutes} min.`, target), 429);
      }
      if (auth.check(String(form.user ?? ''), String(form.password ?? ''))) {
        try {
          await auth.startSession(c);
        } catch (error) {
          logger.error({ clientAddress: from, err: (error as Error).message }, 'dashboard login: no session (Redis)');
          return c.html(loginPage('Signing in needs Redis, which does not answer. Try again shortly.', target), 503);
        }
        logger.info({ clientAddress: from }, 'dashboard login');
        return c.redirect(target, 303);
      }
      perAddress.hit(from);
      total.hit('');
      logger.warn({ clientAddress: from }, 'dashboard login failed');
      // A pause makes guessing slow even below the limits.
      await new Promise((resolve) => setTimeout(resolve, 500));
      return c.redirect(`/login?error&next=${encodeURIComponent(target)}`, 303);
    },
  );

  app.post('/logout', async (c) => {
    const from = clientAddress(c, deps.trustProxy);
    try {
      await auth.endSession(c);
    } catch (error) {
      // The cookie stays, so the user can try again: a session Redis still holds is not over.
      logger.error(
        { clientAddress: from, err: (error as Error).message },
        'dashboard logout: session not ended (Redis)',
      );
      return c.text(
        'Signing out needs Redis, which does not answer: the session is still valid. Try again shortly.',
        503,
      );
    }
    logger.info({ clientAddress: from }, 'dashboard logout');
    return c.redirect('/login', 303);
  });
}
