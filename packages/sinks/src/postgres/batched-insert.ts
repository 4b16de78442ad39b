import { BatchItemError, createTurnBatcher } from '@imsync/async';
import { PermanentSinkError, type StoreOutcome } from '../archive.js';
import { isPermanentPgError } from './errors.js';

export interface BatchedInsertOptions<TRow> {
  /**
   * Inserts the rows with one statement, skipping those already stored, and resolves with the
   * keys (`keyOf`) of the rows it wrote.
   */
  insert(rows: readonly TRow[]): Promise<ReadonlySet<string>>;
  keyOf(row: TRow): string;
  /** Rows per statement at most. */
  maxBatch?: number;
}

export interface BatchedInsert<TRow> {
  store(row: TRow): Promise<StoreOutcome>;
  close(): Promise<void>;
}

/**
 * Rows stored while the event loop is busy are coalesced into one multi-row INSERT, flushed as
 * soon as the current I/O phase is over (no timer, so a lone row is not kept waiting). One
 * commit per batch instead of per row is what lets a worker keep up with the receiver. A row
 * PostgreSQL refuses for good fails alone: the batch is retried row by row to find it.
 */
export function createBatchedInsert<TRow>(options: BatchedInsertOptions<TRow>): BatchedInsert<TRow> {
  const insertOutcomes = async (rows: readonly TRow[]): Promise<(StoreOutcome | BatchItemError)[]> => {
    let inserted: Set<string>;
    try {
      inserted = new Set(await options.insert(rows));
    } catch (error) {
      if (!isPermanentPgError(error)) {
        throw error;
      }
      if (rows.length > 1) {
        // One bad row fails the whole statement: store the rows one by one so only that row fails.
        return (await Promise.all(rows.map((row) => insertOutcomes([row])))).flat();
      }
      return [
        new BatchItemError(
          new PermanentSinkError(`PostgreSQL refused the event: ${(error as Error).message}`, { cause: error }),
        ),
      ];
    }
    // The same event twice in one batch: the first caller stored it, the second is a duplicate.
    return rows.map((row) => (inserted.delete(options.keyOf(row)) ? 'stored' : 'duplicate'));
  };
  const batcher = createTurnBatcher<TRow, StoreOutcome>({ maxBatch: options.maxBatch ?? 500, run: insertOutcomes });
  return { store: (row) => batcher.add(row), close: () => batcher.drain() };
}

/**
 * Rows as one array per column, the shape `unnest($1::type[], …)` takes: one statement, prepared
 * once, for any batch size.
 */
export function toColumns<TRow>(rows: readonly TRow[], valuesOf: (row: TRow) => readonly unknown[]): unknown[][] {
  const columns: unknown[][] = [];
  for (const row of rows) {
    for (const [i, value] of valuesOf(row).entries()) {
      const column = columns[i] ?? [];
      column.push(value);
      columns[i] = column;
    }
  }
  return columns;
}
