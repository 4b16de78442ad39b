import { METRIC_PREFIX } from '@imsync/runtime';
import { Counter, Histogram, type Registry } from 'prom-client';

export interface WorkerMetrics {
  jobsProcessed: Counter<'outcome' | 'kind'>;
  jobDuration: Histogram<'outcome' | 'kind'>;
  sinkErrors: Counter<'sink'>;
  deliveries: Counter<'destination' | 'outcome'>;
  gapHolesFound: Counter;
  backfillRecovered: Counter;
  backfillAccounted: Counter<'kind'>;
  tencentCalls: Counter<'api' | 'outcome' | 'code'>;
  deliveryLatency: Histogram<'destination'>;
}

export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  return {
    jobsProcessed: new Counter({
      name: `${METRIC_PREFIX}jobs_processed_total`,
      help: 'Ingest jobs processed, by outcome (stored, duplicate, retried, failed) and kind (group-message, …).',
      labelNames: ['outcome', 'kind'],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: `${METRIC_PREFIX}job_duration_seconds`,
      help: 'Time one try of a job took, dedupe and archive included, by outcome and kind.',
      labelNames: ['outcome', 'kind'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    gapHolesFound: new Counter({
      name: `${METRIC_PREFIX}gap_holes_found_total`,
      help: 'Holes found in message sequences (runs of MsgSeq the archive lacks), past the grace period.',
      registers: [registry],
    }),
    backfillRecovered: new Counter({
      name: `${METRIC_PREFIX}backfill_recovered_total`,
      help: "Messages recovered from Tencent's group history: stored by backfill, not by their callback.",
      registers: [registry],
    }),
    backfillAccounted: new Counter({
      name: `${METRIC_PREFIX}backfill_accounted_total`,
      help: 'Sequence numbers backfill accounted for without a message: system (tips), recalled, expired, unrecoverable.',
      labelNames: ['kind'],
      registers: [registry],
    }),
    tencentCalls: new Counter({
      name: `${METRIC_PREFIX}tencent_api_calls_total`,
      help:
        "Calls to Tencent's REST API by gap detection and backfill, by api (group_msg_get_simple, get_group_info, " +
        "get_topic), outcome (ok, throttled, retry, group_gone, signature, permission, fatal) and Tencent's ErrorCode " +
        '(-1: no answer read).',
      labelNames: ['api', 'outcome', 'code'],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: `${METRIC_PREFIX}deliveries_total`,
      help: 'Delivery tries, by destination and outcome (delivered, retried, throttled, failed, gone).',
      labelNames: ['destination', 'outcome'],
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: `${METRIC_PREFIX}delivery_latency_seconds`,
      help: 'From the receiver accepting a callback to its destination taking it, by destination.',
      labelNames: ['destination'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400],
      registers: [registry],
    }),
    sinkErrors: new Counter({
      name: `${METRIC_PREFIX}sink_errors_total`,
      help: 'Errors the archive raised while storing an event, by sink.',
      labelNames: ['sink'],
      registers: [registry],
    }),
  };
}
