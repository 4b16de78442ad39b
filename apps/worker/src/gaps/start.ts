import { GROUP_AFTER_SEND_MSG, routeKeyOf } from '@imsync/protocol';
import { createProducer, type QueueLayout, type RedisClient } from '@imsync/queue';
import { type Logger, METRIC_PREFIX } from '@imsync/runtime';
import { createSequenceStore } from '@imsync/sinks';
import type { Pool } from 'pg';
import { Gauge, type Registry } from 'prom-client';
import type { WorkerMetrics } from '../metrics.js';
import { createGapWorker, type GapWorkerHandle } from './gap-worker.js';
import { createTencentApps } from './tencent.js';

export interface GapDetectionOptions {
  connection: RedisClient;
  layout: QueueLayout;
  /** REDIS_WAIT_REPLICAS, for the recovered messages' ingest jobs. */
  waitReplicas: number;
  pool: Pool;
  /** The secret key of each served app to backfill. */
  secretKeys: ReadonlyMap<string, string>;
  tencentBaseUrl: string;
  adminIdentifier: string;
  graceMs: number;
  scanIntervalMs: number;
  tailIntervalMs: number;
  activeWindowMs: number;
  rate: number;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  registry: Registry;
  metrics: WorkerMetrics;
  logger: Logger;
}

/**
 * Gap detection and backfill, wired: the sequence store on the archive's database, Tencent's API
 * for the apps with credentials, recovered messages queued as ingest jobs (so they go through the
 * same dedupe, archive and destinations as callbacks), and the oldest open hole's age as a gauge.
 */
export function startGapDetection(options: GapDetectionOptions): GapWorkerHandle {
  const { logger, metrics } = options;
  const sequences = createSequenceStore(options.pool);
  const tencent = createTencentApps({
    secretKeys: options.secretKeys,
    baseUrl: options.tencentBaseUrl,
    adminIdentifier: options.adminIdentifier,
    metrics,
    onFailure: (api, failure, key) => logger.warn({ api, ...key, ...failure }, 'Tencent API call failed'),
  });
  const producer = createProducer({
    connection: options.connection,
    layout: options.layout,
    waitReplicas: options.waitReplicas,
  });

  new Gauge({
    name: `${METRIC_PREFIX}gap_oldest_open_hole_age_seconds`,
    help: 'Age of the oldest sequence hole not backfilled yet (0 when none is open).',
    registers: [options.registry],
    async collect() {
      const at = await sequences.oldestOpenHoleAt().catch(() => undefined);
      this.set(at ? Math.max(0, (Date.now() - at.getTime()) / 1000) : 0);
    },
  });

  const gaps = createGapWorker({
    connection: options.connection,
    layout: options.layout,
    rate: options.rate,
    concurrency: options.concurrency,
    scanIntervalMs: options.scanIntervalMs,
    lockDurationMs: options.lockDurationMs,
    stalledIntervalMs: options.stalledIntervalMs,
    scan: {
      sequences,
      tails: tencent,
      graceMs: options.graceMs,
      activeWindowMs: options.activeWindowMs,
      tailIntervalMs: options.tailIntervalMs,
      // Half of BACKFILL_RATE at most goes to tail checks, whatever the number of active groups.
      tailBudget: Math.max(1, Math.floor((options.rate * options.scanIntervalMs) / 2000)),
    },
    backfill: {
      history: (sdkAppId) => tencent.history(sdkAppId),
      async enqueueMessage(sdkAppId, body, key) {
        await producer.enqueue(
          'group-message',
          { sdkAppId, command: GROUP_AFTER_SEND_MSG, body, receivedAt: Date.now(), source: 'backfill' },
          key,
          // As the receiver routes it: the group's shard.
          routeKeyOf(JSON.parse(body)),
        );
      },
      onAccounted: (kind, count) => metrics.backfillAccounted.inc({ kind }, count),
    },
    logger,
    metrics,
  });
  return {
    queue: gaps.queue,
    async close() {
      await gaps.close();
      await producer.close();
    },
  };
}
