import { METRIC_PREFIX } from '@imsync/runtime';
import { Counter, Histogram, type Registry } from 'prom-client';

export interface WorkerMetrics {
  jobsProcessed: Counter<'outcome' | 'kind'>;
  jobDuration: Histogram<'outcome' | 'kind'>;
  sinkErrors: Counter<'sink'>;
  deliveries: Counter<'destination' | 'outcome'>;
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
