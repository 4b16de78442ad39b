import pg from 'pg';

/** One sample of a scenario's progress: seconds since its load started, and the counts then. */
export interface TimelinePoint {
  readonly t: number;
  /** Requests answered 200 so far. */
  readonly acknowledged: number;
  /** Requests answered otherwise (503, refused connection, time-out) so far. */
  readonly refused: number;
  /** Rows in the archive's tables; null while PostgreSQL does not answer. */
  readonly stored: number | null;
}

const ARCHIVE_ROWS = `SELECT (SELECT count(*) FROM group_messages) + (SELECT count(*) FROM c2c_messages)
  + (SELECT count(*) FROM group_events) + (SELECT count(*) FROM group_recalls) + (SELECT count(*) FROM c2c_recalls) AS n`;

/**
 * Samples a scenario every `everyMs` until stopped, for its recovery timeline in RELIABILITY.md:
 * what was acknowledged and what was stored, second by second, through the fault.
 */
export function sampleTimeline(
  databaseUrl: string,
  progress: () => { acknowledged: number; refused: number },
  everyMs = 250,
) {
  const points: TimelinePoint[] = [];
  const started = performance.now();
  // One short-lived connection per sample: an outage of PostgreSQL must not hang the sampler.
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 1,
    connectionTimeoutMillis: 200,
    idleTimeoutMillis: 1,
  });
  pool.on('error', () => {});
  let running = true;
  const sample = async () => {
    const t = (performance.now() - started) / 1000;
    const counts = progress();
    const stored = await pool
      .query<{ n: string }>({ text: ARCHIVE_ROWS, query_timeout: 500 } as pg.QueryConfig)
      .then(({ rows }) => Number(rows[0]?.n ?? 0))
      .catch(() => null);
    points.push({ t: Math.round(t * 100) / 100, ...counts, stored });
  };
  const loop = (async () => {
    while (running) {
      await sample();
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    /** Stops sampling (a second call does nothing more) and returns the points. */
    async stop(): Promise<TimelinePoint[]> {
      if (running) {
        running = false;
        await loop;
        // The end state too: the last periodic sample may be from before the last answers.
        await sample();
        await pool.end().catch(() => {});
      }
      return points;
    },
  };
}
