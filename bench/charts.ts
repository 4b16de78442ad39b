import { type Bar, groupedBars, lines, type Point, writeCharts } from '@imsync/charts';
import type { EndToEndResult } from './e2e.js';
import { median } from './lib/util.js';
import type { ReceiverBench } from './receiver.js';
import type { SteadyRound } from './steady.js';
import type { WorkerBench } from './worker.js';

// The charts of BENCHMARKS.md: each round against its baseline, latency distributions and the
// backlog over time, as SVG files beside the report (docs/charts/bench/).

const RECEIVER_LABELS = { baseline: 'bare Hono (baseline)', imsync: 'imsync', quiet: 'imsync, LOG_CALLBACKS=none' };
const WORKER_LABELS = {
  noop: 'no-op BullMQ worker (baseline)',
  imsync: 'imsync',
  delivery: 'imsync + HTTP destination',
};

/** Bars per round: the n-th round of each variant side by side. */
function perRound<T extends { variant: string }>(
  rounds: readonly T[],
  labels: Record<string, string>,
  value: (round: T) => number,
): Bar[] {
  const seen = new Map<string, number>();
  return rounds.map((round) => {
    const n = (seen.get(round.variant) ?? 0) + 1;
    seen.set(round.variant, n);
    return { group: `round ${n}`, series: labels[round.variant] ?? round.variant, value: Math.round(value(round)) };
  });
}

/** Writes the charts next to `out` and returns the section of the report that shows them. */
export async function benchCharts(
  dir: string,
  results: {
    receiver: ReceiverBench;
    worker: WorkerBench;
    e2e: EndToEndResult;
    steady: readonly SteadyRound[];
  },
): Promise<string> {
  const { receiver, worker, e2e, steady } = results;
  const steadyKeys = [...new Set(steady.map((r) => `${r.variant}\u0000${r.rate}`))];
  const steadyMedian = (key: string, of: (r: SteadyRound) => number) =>
    median(steady.filter((r) => `${r.variant}\u0000${r.rate}` === key).map(of));
  const latencyPoints: Point[] = [
    ...(
      [
        ['p50', e2e.latency.p50],
        ['p90', e2e.latency.p90],
        ['p99', e2e.latency.p99],
        ['p99.9', e2e.latency.p999],
        ['max', e2e.latency.max],
      ] as const
    ).map(([x, y]) => ({ series: `end to end, ${e2e.offeredRate}/s`, x, y: Math.max(y, 0.1) })),
    ...steadyKeys.flatMap((key) => {
      const [variant, rate] = key.split('\u0000');
      return (
        [
          ['p50', (r: SteadyRound) => r.latency.p50],
          ['p99', (r: SteadyRound) => r.latency.p99],
          ['max', (r: SteadyRound) => r.latency.max],
        ] as const
      ).map(([x, of]) => ({ series: `${variant}, ${rate}/s`, x, y: Math.max(steadyMedian(key, of), 0.1) }));
    }),
  ];
  const embeds = await writeCharts(dir, 'docs/charts/bench', [
    {
      name: 'receiver-throughput',
      alt: 'Receiver throughput per round against bare Hono',
      spec: groupedBars({
        title: 'Receiver at saturation: requests/s per round',
        unit: 'requests/s',
        bars: perRound(receiver.rounds, RECEIVER_LABELS, (r) => r.wrk.perSecond),
      }),
    },
    {
      name: 'worker-drain',
      alt: 'Worker drain rate per round against a no-op BullMQ worker',
      spec: groupedBars({
        title: 'Worker drain: messages/s per round',
        unit: 'messages/s',
        bars: perRound(worker.rounds, WORKER_LABELS, (r) => r.perSecond),
      }),
    },
    {
      name: 'steady-cpu',
      alt: 'CPU per message under steady load, imsync against the floor',
      spec: groupedBars({
        title: 'Steady load: CPU per message over every process (median of rounds)',
        unit: 'µs per message',
        bars: steadyKeys.map((key) => {
          const [variant, rate] = key.split('\u0000');
          return {
            group: `${rate}/s`,
            series: variant ?? '',
            value: Math.round(steadyMedian(key, (r) => r.cpuUs.total)),
          };
        }),
      }),
    },
    {
      name: 'latency',
      alt: 'Ack latency by percentile',
      spec: lines({
        title: 'Ack latency by percentile',
        x: 'percentile',
        y: 'ms (log)',
        logY: true,
        xOrder: ['p50', 'p90', 'p99', 'p99.9', 'max'],
        points: latencyPoints,
      }),
    },
    {
      name: 'backlog',
      alt: 'Backlog over time at the end-to-end rate',
      spec: lines({
        title: `Backlog (waiting + active + delayed jobs) at ${e2e.offeredRate}/s`,
        x: 'seconds',
        y: 'jobs',
        points: e2e.backlog.map((jobs, second) => ({ series: 'backlog', x: second, y: jobs })),
      }),
    },
  ]);
  return `## Charts

Drawn from this run's figures (the tables below hold the same numbers): each round of the receiver
and of the worker beside its baseline, CPU per message under steady load against the floor, reply
latency by percentile, and the backlog over the end-to-end run.

${embeds['receiver-throughput']}

${embeds['worker-drain']}

${embeds['steady-cpu']}

${embeds.latency}

${embeds.backlog}
`;
}
