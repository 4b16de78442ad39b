import type { DestinationConfig } from './config.js';
import type { Destination } from './destination.js';
import { createHttpDestination } from './http.js';
import { loadDestinationModule } from './module.js';

/**
 * The destinations of a loaded config, in its order: HTTP ones built here, module ones imported
 * (see loadDestinationModule). If one fails, those already made are closed and the error is
 * thrown, so a failed start leaves no file or connection open.
 */
export async function createDestinations(
  configs: readonly DestinationConfig[],
  options: { readonly fetch?: typeof fetch } = {},
): Promise<Destination[]> {
  const made: Destination[] = [];
  try {
    for (const config of configs) {
      const common = {
        name: config.name,
        timeoutMs: config.timeoutMs,
        ...(config.commands === undefined ? {} : { commands: config.commands }),
      };
      made.push(
        config.type === 'http'
          ? createHttpDestination({
              ...common,
              url: config.url,
              secrets: config.secrets,
              ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
            })
          : await loadDestinationModule(config.module, { ...common, options: config.options }),
      );
    }
  } catch (error) {
    await Promise.allSettled(made.map((destination) => destination.close?.()));
    throw error;
  }
  return made;
}
