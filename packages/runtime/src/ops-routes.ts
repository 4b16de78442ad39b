import { DeadlineError, withDeadline } from '@imsync/async';
import type { Env, Hono } from 'hono';
import { Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from './metrics.js';

/** A dependency check for `/readyz`: resolves when the dependency answers, rejects otherwise. */
export type ReadinessCheck = () => Promise<unknown>;

export interface OpsRoutesOptions {
  registry: Registry;
  checks: Readonly<Record<string, ReadinessCheck>>;
  /** A check slower than this counts as failed: a hung dependency is not a ready one. */
  checkTimeoutMs?: number;
  /** False while shutting down, so load balancers stop sending before the server closes. */
  isAccepting?: () => boolean;
}

/** `/healthz` (the process runs), `/readyz` (its dependencies answer) and `/metrics`, on any app. */
export function registerOpsRoutes<E extends Env>(app: Hono<E>, options: OpsRoutesOptions): void {
  const timeoutMs = options.checkTimeoutMs ?? 1000;
  registerDependencyGauge(options.registry, options.checks, timeoutMs);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const checks = await runChecks(options.checks, timeoutMs);
    const failing = Object.keys(checks).filter((name) => checks[name] !== 'ok');
    if (options.isAccepting && !options.isAccepting()) {
      failing.push('shutdown');
      checks.shutdown = 'shutting down';
    }
    return failing.length === 0
      ? c.json({ status: 'ready', checks })
      : c.json({ status: 'unready', failing, checks }, 503);
  });

  app.get('/metrics', async (c) => {
    const body = await options.registry.metrics();
    return c.body(body, 200, { 'content-type': options.registry.contentType });
  });
}

/** Every check at once: `ok`, or why not, by name. */
async function runChecks(
  checks: Readonly<Record<string, ReadinessCheck>>,
  timeoutMs: number,
): Promise<Record<string, string>> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => runCheck(checks[name], timeoutMs)));
  return Object.fromEntries(names.map((name, i) => [name, results[i] ?? 'not run']));
}

async function runCheck(check: ReadinessCheck | undefined, timeoutMs: number): Promise<string> {
  if (!check) {
    return 'not run';
  }
  try {
    await withDeadline(check(), timeoutMs, `no answer within ${timeoutMs} ms`);
    return 'ok';
  } catch (error) {
    return error instanceof DeadlineError ? error.message : `error: ${(error as Error).message}`;
  }
}

const DEPENDENCY_UP = `${METRIC_PREFIX}dependency_up`;

/**
 * `imsync_dependency_up{dependency}`: the readiness checks run again at each scrape, so an alert
 * sees Redis or PostgreSQL gone from where each process stands (1 answered, 0 did not).
 */
function registerDependencyGauge(
  registry: Registry,
  checks: Readonly<Record<string, ReadinessCheck>>,
  timeoutMs: number,
): void {
  if (registry.getSingleMetric(DEPENDENCY_UP)) {
    return;
  }
  new Gauge({
    name: DEPENDENCY_UP,
    help: 'Whether each dependency of this process (redis, postgres) answered its readiness check at this scrape.',
    labelNames: ['dependency'],
    registers: [registry],
    async collect() {
      for (const [name, result] of Object.entries(await runChecks(checks, timeoutMs))) {
        this.set({ dependency: name }, result === 'ok' ? 1 : 0);
      }
    },
  });
}
