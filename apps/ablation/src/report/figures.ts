import { existsSync } from 'node:fs';
import type { GroupSummary } from '../analysis/summary.js';
import type { DemoResult } from '../darai-demo.js';
import { groupLabel } from './tables.js';

/** One point of an effective-rank figure: a series (RGB gain, partner gain, H) in a panel. */
export interface GainPoint {
  panel: string;
  series: string;
  observation: number;
  value: number;
}

/** A figure as SVG text (for the HTML) and PNG bytes (for the README and docs). */
export interface Figure {
  name: string;
  title: string;
  svg: string;
  png: Uint8Array;
}

const SERIES_COLOURS = { domain: ['RGB gain', 'partner gain', 'harmonic mean H'], range: ['#4c78a8', '#f58518', '#54a24b'] };

/**
 * The paper's figure: effective-rank gain against observation percentage, one panel per partner
 * (or per fuser), with the RGB gain, the partner's gain and their harmonic mean H.
 */
export function gainFigureSpec(points: readonly GainPoint[], title: string, columns = 4): Record<string, unknown> {
  const panels = [...new Set(points.map((p) => p.panel))];
  const layer = [
    { mark: { type: 'rule', color: '#999', strokeDash: [3, 3] }, encoding: { y: { datum: 0 } } },
    {
      mark: { type: 'line', point: true, strokeWidth: 2 },
      encoding: {
        x: { field: 'observation', type: 'quantitative', title: 'observation (%)', scale: { domain: [0, 100] } },
        y: { field: 'value', type: 'quantitative', title: 'effective-rank gain' },
        color: { field: 'series', type: 'nominal', title: null, scale: SERIES_COLOURS, legend: { orient: 'bottom' } },
        strokeDash: { condition: { test: "datum.series === 'harmonic mean H'", value: [6, 3] }, value: [1, 0] },
      },
    },
  ];
  const common = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: points.map((p) => ({ ...p, observation: Math.round(p.observation * 100) })) },
    config: { font: 'DejaVu Sans, Arial, sans-serif', view: { stroke: '#ddd' } },
  };
  if (panels.length === 1) {
    return { ...common, title: { text: title, subtitle: panels[0], anchor: 'start', fontSize: 14 }, width: 360, height: 220, layer };
  }
  return {
    ...common,
    title: { text: title, anchor: 'start', fontSize: 14 },
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels, header: { labelFontSize: 13, labelFontWeight: 'bold' } },
    columns,
    spec: { width: 220, height: 170, layer },
    resolve: { scale: { y: 'shared' } },
  };
}

/** H against observation percentage, one line per partner, one panel per fuser. */
export function balanceFigureSpec(points: ReadonlyArray<{ panel: string; partner: string; observation: number; value: number }>, title: string): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start', fontSize: 14 },
    data: { values: points.map((p) => ({ ...p, observation: Math.round(p.observation * 100) })) },
    facet: { field: 'panel', type: 'nominal', title: null, header: { labelFontSize: 13, labelFontWeight: 'bold' } },
    columns: 4,
    spec: {
      width: 220,
      height: 170,
      mark: { type: 'line', point: true, strokeWidth: 2 },
      encoding: {
        x: { field: 'observation', type: 'quantitative', title: 'observation (%)', scale: { domain: [0, 100] } },
        y: { field: 'value', type: 'quantitative', title: 'balance H' },
        color: { field: 'partner', type: 'nominal', title: 'partner', legend: { orient: 'bottom' } },
      },
    },
    config: { font: 'DejaVu Sans, Arial, sans-serif', view: { stroke: '#ddd' } },
  };
}

/** Mean MoC (bars) with +- one standard deviation over seeds (error bars), per partner and fuser. */
export function mocFigureSpec(rows: ReadonlyArray<{ label: string; partner: string; mean: number; std: number }>, title: string): Record<string, unknown> {
  const values = rows.map((r) => ({ ...r, mean: 100 * r.mean, lo: 100 * (r.mean - r.std), hi: 100 * (r.mean + r.std) }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start', fontSize: 14 },
    data: { values },
    width: 420,
    height: { step: 22 },
    layer: [
      { mark: 'bar', encoding: { y: { field: 'label', type: 'nominal', title: null, sort: null }, x: { field: 'mean', type: 'quantitative', title: 'mean MoC (%)' }, color: { field: 'partner', type: 'nominal', legend: null } } },
      { mark: { type: 'errorbar', ticks: true }, encoding: { y: { field: 'label', type: 'nominal', sort: null }, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
    ],
    config: { font: 'DejaVu Sans, Arial, sans-serif', view: { stroke: null } },
  };
}

const FONT_FILES = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', '/System/Library/Fonts/Supplemental/Arial.ttf', 'C:\\Windows\\Fonts\\arial.ttf'];

/**
 * Renders a vega-lite spec headlessly: vega-lite compiles it, vega draws SVG with no DOM or
 * canvas, and resvg rasterises that SVG to a PNG at twice the size (system fonts; text is left
 * out of the PNG only on a machine with no font at all).
 */
export async function renderFigure(name: string, title: string, spec: Record<string, unknown>): Promise<Figure> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const compiled = vl.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = (await view.toSVG()).replace(/^<svg /, `<svg role="img" aria-label="${escapeXml(title)}" `);
  view.finalize();
  const { Resvg } = await import('@resvg/resvg-js');
  const fontFiles = FONT_FILES.filter((f) => existsSync(f));
  const png = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, fontFiles, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
  return { name, title, svg, png: new Uint8Array(png) };
}

/**
 * Figures of a grid run: the paper's gain figure per fuser, H per partner, MoC bars.
 *
 * @example
 * (await gridFigures(report.groups)).map((f) => f.name); // ['erank-gain-mean', 'erank-gain-rtf-variance-r0.3', 'balance', 'moc']
 */
export async function gridFigures(groups: readonly GroupSummary[]): Promise<Figure[]> {
  const figures: Figure[] = [];
  const fused = groups.filter((g) => g.partner !== 'rgb');
  const byFuser = new Map<string, GroupSummary[]>();
  for (const g of fused) {
    const key = `${g.fuser}${g.exchangeRatio != null ? `-r${g.exchangeRatio}` : ''}`;
    if (!byFuser.has(key)) byFuser.set(key, []);
    byFuser.get(key)!.push(g);
  }
  for (const [key, gs] of byFuser) {
    const points: GainPoint[] = gs.flatMap((g) =>
      g.ranks.flatMap((r) => [
        { panel: g.partner, series: 'RGB gain', observation: r.observationRatio, value: r.gainRgb },
        { panel: g.partner, series: 'partner gain', observation: r.observationRatio, value: r.gainPartner },
        { panel: g.partner, series: 'harmonic mean H', observation: r.observationRatio, value: r.balance },
      ]),
    );
    const title = `Effective-rank gain vs observation, ${key}`;
    figures.push(await renderFigure(`erank-gain-${key}`, title, gainFigureSpec(points, title)));
  }
  if (fused.length) {
    const points = fused.flatMap((g) => g.ranks.map((r) => ({ panel: `${g.fuser}${g.exchangeRatio != null ? ` (${g.exchangeRatio})` : ''}`, partner: g.partner, observation: r.observationRatio, value: r.balance })));
    figures.push(await renderFigure('balance', 'Balance H of RGB and partner gains', balanceFigureSpec(points, 'Balance H of RGB and partner gains')));
  }
  const mocRows = groups.filter((g) => Number.isFinite(g.meanMoc.mean)).map((g) => ({ label: groupLabel(g), partner: g.partner, mean: g.meanMoc.mean, std: g.meanMoc.std }));
  if (mocRows.length) figures.push(await renderFigure('moc', 'Mean MoC over the obs x pred grid (± std over seeds)', mocFigureSpec(mocRows, 'Mean MoC over the obs x pred grid (± std over seeds)')));
  return figures;
}

/**
 * The darai-demo figure: the paper's gain figure for the authors' RGB + depth tokens.
 *
 * @example
 * (await demoFigures(demo)).map((f) => f.name); // ['erank-gain-darai-demo']
 */
export async function demoFigures(demo: DemoResult): Promise<Figure[]> {
  const points: GainPoint[] = demo.ranks.flatMap((r) => [
    { panel: 'DARai, RGB + depth (authors\u2019 tokens)', series: 'RGB gain', observation: r.observationRatio, value: r.gainRgb },
    { panel: 'DARai, RGB + depth (authors\u2019 tokens)', series: 'partner gain', observation: r.observationRatio, value: r.gainPartner },
    { panel: 'DARai, RGB + depth (authors\u2019 tokens)', series: 'harmonic mean H', observation: r.observationRatio, value: r.balance },
  ]);
  const title = 'Effective-rank gain vs observation (DARai, RGB + depth)';
  return [await renderFigure('erank-gain-darai-demo', title, gainFigureSpec(points, title, 1))];
}

/**
 * Escapes text for HTML and SVG content and attribute values.
 *
 * @example
 * escapeXml('a < b & "c"'); // 'a &lt; b &amp; &quot;c&quot;'
 */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
