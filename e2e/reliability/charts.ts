import { groupedBars, lines, writeCharts } from '@imsync/charts';
import type { ScenarioResult } from './harness.js';

// The charts of RELIABILITY.md: each scenario's recovery timeline (what was acknowledged and what
// was stored, through the fault) and the fsync policies' throughput per round.

/** Writes the charts into `dir`; returns the timelines' section, and the fsync chart's embed. */
export async function reliabilityCharts(
  dir: string,
  results: readonly ScenarioResult[],
  fsyncRounds: readonly { policy: string; perSecond: number }[],
): Promise<{ timelines: string; fsync: string }> {
  const timelines = results.map((result) => ({
    name: `timeline-${result.id}`,
    alt: `Recovery timeline: ${result.title}`,
    spec: lines({
      title: result.title,
      x: 'seconds since the load started',
      y: 'events',
      points: result.timeline.flatMap((point) => [
        { series: 'acknowledged (200)', x: point.t, y: point.acknowledged },
        { series: 'not acknowledged (503, refused, timed out)', x: point.t, y: point.refused },
        // No count while PostgreSQL is away: a null breaks the line there, rather than join across.
        { series: 'rows in the archive', x: point.t, y: point.stored },
      ]),
    }),
  }));
  const seen = new Map<string, number>();
  const fsync = {
    name: 'fsync-throughput',
    alt: 'Receiver throughput per round, appendfsync everysec against always',
    spec: groupedBars({
      title: 'Receiver throughput by Redis fsync policy, per round',
      unit: 'callbacks/s',
      bars: fsyncRounds.map((round) => {
        const n = (seen.get(round.policy) ?? 0) + 1;
        seen.set(round.policy, n);
        return { group: `round ${n}`, series: `appendfsync ${round.policy}`, value: Math.round(round.perSecond) };
      }),
    }),
  };
  const embeds = await writeCharts(dir, 'docs/charts/reliability', [...timelines, fsync]);
  return {
    timelines: `## Recovery timelines

Each scenario, sampled every 250 ms from the start of its load until every acknowledged event was
stored: callbacks answered \`200\`, callbacks not acknowledged, and rows in the archive (a gap in
that line: PostgreSQL did not answer). Rows and acknowledgements differ by the repeats (each one
acknowledged, stored once) and the recalls; the table above says whether anything was lost.

${timelines.map((chart) => embeds[chart.name]).join('\n\n')}
`,
    fsync: embeds['fsync-throughput'] ?? '',
  };
}
