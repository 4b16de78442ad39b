import type { Logger } from '@imsync/runtime';
import { METRIC_PREFIX } from '@imsync/runtime';
import { type MaintenanceOptions, type MaintenanceReport, maintainArchive, PARTITIONED_ARCHIVES } from '@imsync/sinks';
import type { Pool } from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ArchiveMaintenanceOptions {
  pool: Pool;
  logger: Logger;
  registry: Registry;
  pass: Omit<MaintenanceOptions, 'now'>;
  intervalMs: number;
  now?: () => Date;
}

export interface ArchiveMaintenance {
  /** One pass now; a failure is logged, counted and returned as undefined, never thrown. */
  runOnce(): Promise<MaintenanceReport | undefined>;
  /** A pass now, then one every interval, until close(). */
  start(): void;
  /** Stops the schedule and waits for a pass in progress. */
  close(): Promise<void>;
}

/**
 * The archive maintenance on a schedule, with its metrics: partitions ahead of time, rows moved
 * out of the default partition, retention. A failed pass (a lock not granted in time, PostgreSQL
 * away) changes nothing and the next one tries again, so one failure needs no one; failures that
 * go on show in `imsync_archive_maintenance_last_success_timestamp_seconds`.
 */
export function createArchiveMaintenance(options: ArchiveMaintenanceOptions): ArchiveMaintenance {
  const { pool, logger, registry, pass } = options;
  const labelNames = ['table'] as const;
  const runs = new Counter({
    name: `${METRIC_PREFIX}archive_maintenance_runs_total`,
    help: 'Archive maintenance passes, by outcome: ok, failed, or skipped (another process held the lock).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const lastSuccess = new Gauge({
    name: `${METRIC_PREFIX}archive_maintenance_last_success_timestamp_seconds`,
    help: 'When the last archive maintenance pass completed (Unix seconds; 0 before the first).',
    registers: [registry],
  });
  const created = new Counter({
    name: `${METRIC_PREFIX}archive_partitions_created_total`,
    help: 'Day partitions created, by archive table.',
    labelNames,
    registers: [registry],
  });
  const moved = new Counter({
    name: `${METRIC_PREFIX}archive_rows_moved_total`,
    help: 'Rows moved from the default partition to their day partition, by archive table.',
    labelNames,
    registers: [registry],
  });
  const dropped = new Counter({
    name: `${METRIC_PREFIX}archive_partitions_dropped_total`,
    help: 'Day partitions dropped by retention (ARCHIVE_RETENTION_DAYS), by archive table.',
    labelNames,
    registers: [registry],
  });
  const pastRetention = new Gauge({
    name: `${METRIC_PREFIX}archive_partitions_past_retention`,
    help: 'Partitions past retention still there: what a retention dry run would drop (0 once dropped).',
    labelNames,
    registers: [registry],
  });
  const partitions = new Gauge({
    name: `${METRIC_PREFIX}archive_partitions`,
    help: 'Day partitions of each archive table (the default partition not counted).',
    labelNames,
    registers: [registry],
  });
  const defaultRows = new Gauge({
    name: `${METRIC_PREFIX}archive_default_partition_rows`,
    help: 'Rows waiting in the default partition (a day with no partition yet); the next pass moves them.',
    labelNames,
    registers: [registry],
  });
  const oldest = new Gauge({
    name: `${METRIC_PREFIX}archive_oldest_message_timestamp_seconds`,
    help: 'Start of the oldest day the archive table still holds (Unix seconds).',
    labelNames,
    registers: [registry],
  });
  for (const table of PARTITIONED_ARCHIVES) {
    for (const metric of [created, moved, dropped]) {
      metric.inc({ table }, 0);
    }
  }
  lastSuccess.set(0);

  const record = (report: MaintenanceReport) => {
    for (const c of report.created) {
      created.inc({ table: c.table });
      moved.inc({ table: c.table }, c.movedRows);
    }
    for (const table of PARTITIONED_ARCHIVES) {
      const drops = report.dropped.filter((d) => d.table === table).length;
      if (report.retentionDryRun) {
        pastRetention.set({ table }, drops);
      } else {
        dropped.inc({ table }, drops);
        pastRetention.set({ table }, 0);
      }
    }
    for (const t of report.tables) {
      partitions.set({ table: t.table }, t.partitions);
      defaultRows.set({ table: t.table }, t.defaultRows);
      if (t.oldest !== null) {
        oldest.set({ table: t.table }, t.oldest.getTime() / 1000);
      }
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<MaintenanceReport | undefined> | undefined;
  let closed = false;

  const runOnce = () => {
    running ??= (async () => {
      try {
        const report = await maintainArchive(pool, { ...pass, now: options.now?.() ?? new Date() });
        if (!report.ran) {
          runs.inc({ outcome: 'skipped' });
          logger.info('archive maintenance skipped: another process is running it');
          return report;
        }
        record(report);
        runs.inc({ outcome: 'ok' });
        lastSuccess.set(Date.now() / 1000);
        logger.info(
          {
            dryRun: report.dryRun,
            retentionDryRun: report.retentionDryRun,
            created: report.created.map((c) => `${c.partition} (${c.movedRows} rows moved)`),
            [report.retentionDryRun ? 'wouldDrop' : 'dropped']: report.dropped.map((d) => d.partition),
            tables: report.tables,
          },
          'archive maintenance done',
        );
        return report;
      } catch (error) {
        runs.inc({ outcome: 'failed' });
        logger.error({ err: error }, 'archive maintenance failed; the next pass tries again');
        return undefined;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const schedule = () => {
    if (!closed) {
      timer = setTimeout(() => void runOnce().finally(schedule), options.intervalMs);
    }
  };

  return {
    runOnce,
    start() {
      void runOnce().finally(schedule);
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
