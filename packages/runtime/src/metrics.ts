import { collectDefaultMetrics, Registry } from 'prom-client';

/** Every imsync metric starts with this; the default process metrics keep their standard names. */
export const METRIC_PREFIX = 'imsync_';

/** A registry per process (never prom-client's global one), so tests can build many apps. */
export function createRegistry(labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}
