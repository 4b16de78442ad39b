import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DeadlineError, withDeadline } from '@imsync/async';
import { ConfigError } from '@imsync/runtime';
import type { CreateDestination, DeliveryEvent, DeliveryOutcome, Destination } from './destination.js';
import { MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS } from './retry-after.js';

export interface ModuleDestinationOptions {
  /** The configured name; the destination gets it whatever name the module gives itself. */
  readonly name: string;
  /** Given to the module's `createDestination` as it is. */
  readonly options?: Readonly<Record<string, unknown>>;
  /** The configured subscription; it replaces any the module declares (kept when this is absent). */
  readonly commands?: ReadonlySet<string>;
  /**
   * The longest one `deliver` may take: after it, the module's signal aborts and the attempt is a
   * `retry` (the module's late answer is ignored). No limit when absent.
   */
  readonly timeoutMs?: number;
}

/**
 * Imports a user's ES module (an absolute path, or one relative to the working directory; the
 * config resolves its paths against the config file's folder) and builds its destination with
 * the module's `createDestination(options, { name })` export (see CreateDestination). Fails
 * with a ConfigError saying what is wrong when the file is missing, cannot be imported or
 * exports the wrong thing. A deployed worker runs plain Node: the module must be JavaScript
 * (`.js` or `.mjs`, ESM), or TypeScript compiled to it.
 *
 * The destination returned holds the module's to the interface's promises: a throw, an invalid
 * outcome or (with `timeoutMs`) no answer in time becomes a `retry` outcome, never a throw.
 */
export async function loadDestinationModule(path: string, options: ModuleDestinationOptions): Promise<Destination> {
  const file = resolve(path);
  const what = `destination ${options.name}: module ${file}`;
  const found = await stat(file).catch(() => undefined);
  if (!found?.isFile()) {
    throw new ConfigError(`${what} not found`);
  }
  let exports: Record<string, unknown>;
  try {
    exports = await import(/* @vite-ignore */ pathToFileURL(file).href);
  } catch (error) {
    throw new ConfigError(`${what} cannot be imported: ${(error as Error).message ?? error}`, { cause: error });
  }
  if (typeof exports.createDestination !== 'function') {
    const hint = typeof exports.default === 'function' ? ' (it has a default export: export it by name)' : '';
    throw new ConfigError(`${what} must export a function createDestination(options, { name })${hint}`);
  }
  const create = exports.createDestination as CreateDestination;
  let made: unknown;
  try {
    made = await create(options.options ?? {}, { name: options.name });
  } catch (error) {
    // Most often its options are wrong: a configuration problem, said in one line at start.
    throw new ConfigError(`${what}: createDestination failed: ${(error as Error).message ?? error}`, { cause: error });
  }
  if (!isDestination(made)) {
    throw new ConfigError(`${what}: createDestination must return an object with a deliver(event, signal) method`);
  }
  return guarded(made, options);
}

function isDestination(value: unknown): value is Destination {
  return typeof value === 'object' && value !== null && typeof (value as Destination).deliver === 'function';
}

const OUTCOMES = new Set(['delivered', 'retry', 'gone', 'rejected']);

/** A module's answer held to the interface, its free wait to the bounds an HTTP one gets. */
function checkedOutcome(outcome: unknown): DeliveryOutcome {
  if (typeof outcome !== 'object' || outcome === null || !OUTCOMES.has((outcome as DeliveryOutcome).kind)) {
    return { kind: 'retry', reason: 'the module returned no valid outcome' };
  }
  const checked = outcome as DeliveryOutcome;
  if (checked.kind !== 'retry' || checked.retryAfterMs === undefined) {
    return checked;
  }
  const { retryAfterMs, ...rest } = checked;
  return Number.isFinite(retryAfterMs)
    ? { ...rest, retryAfterMs: Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, retryAfterMs)) }
    : rest;
}

/** Wraps user code so that what reaches the delivery queue is always a valid outcome. */
function guarded(inner: Destination, options: ModuleDestinationOptions): Destination {
  const { timeoutMs } = options;
  async function deliver(event: DeliveryEvent, signal: AbortSignal): Promise<DeliveryOutcome> {
    if (signal.aborted) {
      return { kind: 'retry', reason: 'aborted before delivering' };
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // The caller stops waiting when it aborts, whether or not the module listens to its signal.
    const aborted = new Promise<DeliveryOutcome>((resolve) => {
      controller.signal.addEventListener('abort', () => resolve({ kind: 'retry', reason: 'aborted' }), { once: true });
    });
    let started: Promise<unknown>;
    try {
      started = Promise.resolve(inner.deliver(event, controller.signal));
    } catch (error) {
      // A deliver that is not async may throw before returning a promise.
      started = Promise.reject(error);
    }
    const delivering = started.then(
      checkedOutcome,
      (error: unknown): DeliveryOutcome => ({
        kind: 'retry',
        reason: `the module threw: ${error instanceof Error ? error.message : String(error)}`,
      }),
    );
    const answer = Promise.race([delivering, aborted]);
    try {
      return timeoutMs === undefined
        ? await answer
        : await withDeadline(answer, timeoutMs, `timed out after ${timeoutMs} ms`);
    } catch (error) {
      // Only the deadline rejects: tell the module to give up, and answer for it.
      controller.abort(error);
      return { kind: 'retry', reason: error instanceof DeadlineError ? error.message : String(error) };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
  const close = inner.close?.bind(inner);
  const commands = options.commands ?? inner.commands;
  return {
    name: options.name,
    ...(commands === undefined ? {} : { commands }),
    deliver,
    ...(close === undefined ? {} : { close }),
  };
}
