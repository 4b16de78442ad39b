import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { groupedBars, lines, writeCharts } from './index.js';

test('writes each chart as an SVG with its data drawn, and returns the Markdown that embeds it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'imsync-charts-'));
  try {
    const embeds = await writeCharts(join(dir, 'charts'), 'docs/charts', [
      {
        name: 'bars',
        alt: 'Throughput per round',
        spec: groupedBars({
          title: 'Throughput',
          unit: 'requests/s',
          bars: [
            { group: 'round 1', series: 'baseline', value: 9000 },
            { group: 'round 1', series: 'imsync', value: 4000 },
          ],
        }),
      },
      {
        name: 'latency',
        alt: 'Latency',
        spec: lines({
          title: 'Latency by percentile',
          x: 'percentile',
          y: 'ms',
          logY: true,
          xOrder: ['p50', 'p99', 'max'],
          points: [
            { series: 'imsync', x: 'p50', y: 2 },
            { series: 'imsync', x: 'p99', y: 30 },
            { series: 'imsync', x: 'max', y: 400 },
          ],
        }),
      },
    ]);
    expect(embeds).toEqual({
      bars: '![Throughput per round](docs/charts/bars.svg)',
      latency: '![Latency](docs/charts/latency.svg)',
    });
    const bars = await readFile(join(dir, 'charts/bars.svg'), 'utf8');
    expect(bars).toMatch(/^<svg /);
    // Two bars (the paths of the bar marks), the legend's series and the title are in the picture.
    const barMarks = bars.match(/class="mark-rect role-mark marks"[^>]*>(.*?)<\/g>/s)?.[1] ?? '';
    expect(barMarks.match(/<path /g)).toHaveLength(2);
    for (const text of ['Throughput', 'baseline', 'imsync', 'round 1']) {
      expect(bars).toContain(text);
    }
    const latency = await readFile(join(dir, 'charts/latency.svg'), 'utf8');
    for (const text of ['p50', 'p99', 'max', 'Latency by percentile']) {
      expect(latency).toContain(text);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
