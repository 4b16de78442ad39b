/**
 * Collects the calls made during one turn of the event loop and hands them to `run` together,
 * as soon as the current I/O phase is over (setImmediate: no timer, so a lone call is not kept
 * waiting). Under load, thousands of calls a second become a few hundred batches: one Redis
 * script call or one multi-row INSERT each, instead of one per call.
 */
export interface TurnBatcher<TItem, TResult> {
  /** Resolves with this item's result once its batch ran. */
  add(item: TItem): Promise<TResult>;
  /** Runs what is pending now and resolves once every batch started so far has settled. */
  drain(): Promise<void>;
}

export interface TurnBatcherOptions<TItem, TResult> {
  /** Items per `run` call at most; more in one turn are split into several calls. */
  maxBatch: number;
  /**
   * 0 (default): run at the end of the current I/O phase. More: wait this many ms from the first
   * item (Node's timers count whole milliseconds), so items of later turns join the batch.
   */
  windowMs?: number;
  /**
   * Runs a batch and returns one outcome per item, in order: a result, or an error that fails
   * that item alone. Throwing fails every item of the batch with that error.
   */
  run(items: readonly TItem[]): Promise<readonly (TResult | BatchItemError)[]>;
}

/** One item's failure inside a batch whose other items succeeded. */
export class BatchItemError {
  constructor(readonly error: unknown) {}
}

interface Pending<TItem, TResult> {
  readonly item: TItem;
  readonly resolve: (result: TResult) => void;
  readonly reject: (error: unknown) => void;
}

export function createTurnBatcher<TItem, TResult>(
  options: TurnBatcherOptions<TItem, TResult>,
): TurnBatcher<TItem, TResult> {
  let pending: Pending<TItem, TResult>[] = [];
  let scheduled = false;
  const inFlight = new Set<Promise<void>>();

  const runBatch = async (batch: Pending<TItem, TResult>[]) => {
    try {
      const outcomes = await options.run(batch.map((p) => p.item));
      for (const [i, p] of batch.entries()) {
        const outcome = outcomes[i];
        if (outcome instanceof BatchItemError) {
          p.reject(outcome.error);
        } else if (i >= outcomes.length) {
          p.reject(new Error(`batch returned ${outcomes.length} outcomes for ${batch.length} items`));
        } else {
          p.resolve(outcome as TResult);
        }
      }
    } catch (error) {
      for (const p of batch) {
        p.reject(error);
      }
    }
  };

  const flush = () => {
    scheduled = false;
    const all = pending;
    pending = [];
    for (let start = 0; start < all.length; start += options.maxBatch) {
      const running = runBatch(all.slice(start, start + options.maxBatch));
      inFlight.add(running);
      void running.finally(() => inFlight.delete(running));
    }
  };

  return {
    add(item) {
      const result = new Promise<TResult>((resolve, reject) => {
        pending.push({ item, resolve, reject });
      });
      if (!scheduled) {
        scheduled = true;
        if (options.windowMs) {
          setTimeout(flush, options.windowMs);
        } else {
          setImmediate(flush);
        }
      }
      return result;
    },
    async drain() {
      if (pending.length > 0) {
        flush();
      }
      await Promise.allSettled([...inFlight]);
    },
  };
}
