/**
 * SQLSTATE classes that describe the data, not the moment: data exceptions (22), integrity
 * violations (23) and program limits such as an oversized index row (54). Everything else
 * (connection loss, shutdown, timeouts, resource limits) is worth retrying.
 */
const PERMANENT_CLASSES = new Set(['22', '23', '54']);

/**
 * The one integrity violation that is about the moment: a row routed to the default partition
 * while that day's partition was attached is refused once the attach commits. The archive
 * maintenance holds inserts off while it attaches, so this should not happen; if it does, every
 * archive has a default partition, so a row fits somewhere: tried again, it goes to its new day.
 */
const routedDuringAttach = (error: { code?: unknown; routine?: unknown }) =>
  error.code === '23514' && error.routine === 'ExecPartitionCheckEmitError';

export function isPermanentPgError(error: unknown): boolean {
  const pgError = (error ?? {}) as { code?: unknown; routine?: unknown };
  const code = pgError.code;
  return (
    typeof code === 'string' &&
    code.length === 5 &&
    PERMANENT_CLASSES.has(code.slice(0, 2)) &&
    !routedDuringAttach(pgError)
  );
}
