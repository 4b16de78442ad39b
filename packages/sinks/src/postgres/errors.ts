/**
 * SQLSTATE classes that describe the data, not the moment: data exceptions (22), integrity
 * violations (23) and program limits such as an oversized index row (54). Everything else
 * (connection loss, shutdown, timeouts, resource limits) is worth retrying.
 */
const PERMANENT_CLASSES = new Set(['22', '23', '54']);

export function isPermanentPgError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && PERMANENT_CLASSES.has(code.slice(0, 2));
}
