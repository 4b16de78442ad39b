import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

// The charts of the reports (`pnpm bench`, `pnpm reliability`): Vega-Lite specs rendered to SVG
// headless (no browser, no canvas), written beside the Markdown that embeds them.

const WIDTH = 560;
const HEIGHT = 220;
const BASE = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  width: WIDTH,
  height: HEIGHT,
  background: 'white',
  config: {
    font: 'sans-serif',
    axis: { labelFontSize: 11, titleFontSize: 12 },
    legend: { orient: 'bottom', labelLimit: 320, columns: 2 },
  },
} as const;

/** A Vega-Lite spec as SVG text. */
async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface Bar {
  /** The group on the x axis (a round, a scenario). */
  readonly group: string;
  /** The bar within its group (imsync, the baseline). */
  readonly series: string;
  readonly value: number;
}

/** Bars side by side per group: each round of a variant against its baseline. */
export function groupedBars(options: { title: string; unit: string; bars: readonly Bar[] }): TopLevelSpec {
  return {
    ...BASE,
    title: options.title,
    data: { values: options.bars.map((bar) => ({ ...bar })) },
    mark: 'bar',
    encoding: {
      // Groups in the order of the data (rounds, rates), not alphabetical ("500/s" after "2000/s").
      x: { field: 'group', type: 'nominal', title: null, sort: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'series', type: 'nominal' },
      y: { field: 'value', type: 'quantitative', title: options.unit },
      color: { field: 'series', type: 'nominal', title: null },
    },
  } as TopLevelSpec;
}

export interface Point {
  readonly series: string;
  /** A number, or a category named in `xOrder` (percentiles: p50, p99, max). */
  readonly x: number | string;
  /** null: no value here (the line breaks). */
  readonly y: number | null;
}

/** Lines over a numeric x: a value over time, a latency by percentile. */
export function lines(options: {
  title: string;
  x: string;
  y: string;
  points: readonly Point[];
  /** A log scale for y (latencies that span orders of magnitude). */
  logY?: boolean;
  /** Categories on x, in this order, evenly spaced (instead of a numeric x). */
  xOrder?: readonly string[];
  /** Vertical rules at these x, labelled (a fault, its end). */
  marks?: readonly { x: number; label: string }[];
}): TopLevelSpec {
  const layers: unknown[] = [
    {
      data: { values: options.points.map((point) => ({ ...point })) },
      // A null y breaks the line (a gap in the data), rather than a straight line across it.
      mark: { type: 'line', point: options.points.length <= 60, invalid: 'break-paths-show-domains' },
      encoding: {
        x: options.xOrder
          ? { field: 'x', type: 'ordinal', sort: [...options.xOrder], title: options.x, axis: { labelAngle: 0 } }
          : { field: 'x', type: 'quantitative', title: options.x },
        y: {
          field: 'y',
          type: 'quantitative',
          title: options.y,
          ...(options.logY && { scale: { type: 'log' } }),
        },
        color: { field: 'series', type: 'nominal', title: null },
      },
    },
  ];
  if (options.marks && options.marks.length > 0) {
    const values = options.marks.map((mark) => ({ ...mark }));
    layers.push(
      {
        data: { values },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#888' },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
      {
        data: { values },
        mark: { type: 'text', align: 'left', dx: 3, dy: -4, color: '#555', baseline: 'top' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
      },
    );
  }
  return { ...BASE, title: options.title, layer: layers } as TopLevelSpec;
}

/**
 * Writes each chart's SVG to `dir/<name>.svg` and returns the Markdown that embeds it, with
 * `fromDoc` the path of `dir` as the Markdown file sees it.
 */
export async function writeCharts(
  dir: string,
  fromDoc: string,
  charts: readonly { name: string; alt: string; spec: TopLevelSpec }[],
): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const embeds: Record<string, string> = {};
  for (const chart of charts) {
    const file = `${dir}/${chart.name}.svg`;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, await renderSvg(chart.spec));
    embeds[chart.name] = `![${chart.alt}](${fromDoc}/${chart.name}.svg)`;
  }
  return embeds;
}
