import { METRIC_PREFIX } from '@imsync/runtime';
import { Counter, Histogram, type Registry } from 'prom-client';

/** `accepted`, `other_command` (acknowledged, not enqueued), `rejected` (4xx) or `unavailable` (5xx). */
export type CallbackOutcome = 'accepted' | 'other_command' | 'rejected' | 'unavailable';

export interface ReceiverMetrics {
  callbacks: Counter<'outcome' | 'reason' | 'app' | 'command'>;
  ackDuration: Histogram<'outcome'>;
}

export function createReceiverMetrics(registry: Registry): ReceiverMetrics {
  return {
    callbacks: new Counter({
      name: `${METRIC_PREFIX}callbacks_received_total`,
      help: 'Callbacks received, by outcome, refusal reason, served app and command.',
      labelNames: ['outcome', 'reason', 'app', 'command'],
      registers: [registry],
    }),
    ackDuration: new Histogram({
      name: `${METRIC_PREFIX}callback_ack_duration_seconds`,
      help: 'Time from the request to its reply (Tencent gives up after 2 s).',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
      registers: [registry],
    }),
  };
}
