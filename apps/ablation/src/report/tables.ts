import type { BaselineResult } from '../analysis/baselines.js';
import type { Comparison } from '../analysis/comparisons.js';
import type { Estimate } from '../analysis/stats.js';
import { formatP } from '../analysis/verdict.js';
import { groupLabel, type GroupSummary } from '../analysis/summary.js';

export { groupLabel };
import type { CellResult, RankPoint } from '../run-cell.js';

/** A table as header cells and rows of cells: the Markdown and HTML writers render the same one. */
export interface Table {
  head: string[];
  rows: string[][];
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');
// a t-interval is symmetric: mean ± half its width; one seed has no interval
const ci = (e: Pick<Estimate, 'mean' | 'ci95'>, f: (x: number) => string = pct) =>
  !Number.isFinite(e.mean) ? '-' : Number.isFinite(e.ci95[0]) ? `${f(e.mean)} ± ${f((e.ci95[1] - e.ci95[0]) / 2)}` : f(e.mean);
const signed = (x: number, f: (x: number) => string) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${f(x)}` : '-');


/**
 * The MoC table: one row per partner/fuser group, one column per (obs, pred), mean ± half the
 * 95% t-interval over seeds (%).
 *
 * @example
 * mocTable(report.groups).rows[1]; // ['depth + mean', '5', '34.0 ± 1.2', ..., '20.8 ± 2.9']
 */
export function mocTable(groups: readonly GroupSummary[]): Table {
  const keys = groups[0]?.moc.map((m) => [m.observationRatio, m.predictionRatio] as const) ?? [];
  const head = ['partner + fuser', 'seeds', ...keys.map(([o, p]) => `obs ${o} / pred ${p}`), 'mean MoC'];
  const rows = groups.map((g) => [
    groupLabel(g),
    String(g.seeds.length),
    ...keys.map(([o, p]) => {
      const m = g.moc.find((x) => x.observationRatio === o && x.predictionRatio === p);
      return m ? ci(m) : '-';
    }),
    ci(g.meanMoc),
  ]);
  return { head, rows };
}

/**
 * Gains and H per partner at each observation ratio (means over seeds): three rows per group.
 *
 * @example
 * gainTable(report.groups).head; // ['partner + fuser', 'quantity', '10%', ..., '90%', 'mean']
 */
export function gainTable(groups: readonly GroupSummary[]): Table {
  const ratios = groups.find((g) => g.partner !== 'rgb')?.ranks.map((r) => r.observationRatio) ?? [];
  const head = ['partner + fuser', 'quantity', ...ratios.map((r) => `${Math.round(100 * r)}%`), 'mean'];
  const rows: string[][] = [];
  for (const g of groups.filter((x) => x.partner !== 'rgb')) {
    for (const [name, key] of [['gain RGB', 'gainRgb'], [`gain ${g.partner}`, 'gainPartner'], ['H', 'balance']] as const) {
      const vals = ratios.map((r) => g.ranks.find((p) => p.observationRatio === r)?.[key] ?? Number.NaN);
      rows.push([groupLabel(g), name, ...vals.map(f3), f3(vals.reduce((a, b) => a + b, 0) / Math.max(vals.length, 1))]);
    }
  }
  return { head, rows };
}

/**
 * Wall time per cell, in seconds.
 *
 * @example
 * timingTable(report.results).head; // ['cell', 'seconds']; rows like ['rgb.none.s1', '6.5']
 */
export function timingTable(results: readonly CellResult[]): Table {
  return { head: ['cell', 'seconds'], rows: results.map((r) => [r.cell.id, r.seconds.toFixed(1)]) };
}

/**
 * The darai-demo table: gains and H per observation ratio, as the fixture README prints it.
 *
 * @example
 * demoTable(demo.ranks).head; // ['obs', 'gain RGB', 'gain depth', 'harmonic mean']; rows at 4 decimals
 */
export function demoTable(ranks: readonly RankPoint[]): Table {
  return {
    head: ['obs', 'gain RGB', 'gain depth', 'harmonic mean'],
    rows: ranks.map((r) => [String(r.observationRatio), r.gainRgb.toFixed(4), r.gainPartner.toFixed(4), r.balance.toFixed(4)]),
  };
}

/**
 * One row per group: seeds, mean MoC and balance H, each with its 95% t-interval over seeds.
 *
 * @example
 * summaryTable(report.groups).rows[1]; // ['depth + mean', '5', '24.1 [22.0, 26.2]', '0.210 [0.150, 0.270]']
 */
export function summaryTable(groups: readonly GroupSummary[]): Table {
  const interval = (e: Estimate, f: (x: number) => string) => (!Number.isFinite(e.mean) ? '-' : Number.isFinite(e.ci95[0]) ? `${f(e.mean)} [${f(e.ci95[0])}, ${f(e.ci95[1])}]` : f(e.mean));
  return {
    head: ['partner + fuser', 'seeds', 'mean MoC % [95% CI]', 'balance H [95% CI]'],
    rows: groups.map((g) => [groupLabel(g), String(g.meanMoc.n), interval(g.meanMoc, pct), g.partner === 'rgb' ? '-' : interval(g.H, f3)]),
  };
}

/**
 * The baselines: what each predicts, its MoC per (obs, pred) and mean MoC (%), scored like the cells.
 *
 * @example
 * baselineTable(report.baselines).rows[1][0]; // 'repeat-last'
 */
export function baselineTable(baselines: readonly BaselineResult[]): Table {
  const keys = baselines[0]?.moc.map((m) => [m.observationRatio, m.predictionRatio] as const) ?? [];
  return {
    head: ['baseline', 'predicts', ...keys.map(([o, p]) => `obs ${o} / pred ${p}`), 'mean MoC'],
    rows: baselines.map((b) => [b.name, b.description, ...keys.map(([o, p]) => pct(b.moc.find((m) => m.observationRatio === o && m.predictionRatio === p)?.moc ?? Number.NaN)), pct(b.meanMoc)]),
  };
}

/**
 * The paired comparisons: a minus b over the seeds both have, the mean difference (points of MoC,
 * or H) with its 95% interval, the test and its p, the Holm-adjusted p, whether the verdict may
 * claim it, and the smallest difference these seeds could detect.
 *
 * @example
 * comparisonTable(report.comparisons, report.groups).head; // ['a', 'b', 'metric', 'seeds', 'mean difference a - b', '95% CI', ...]
 */
export function comparisonTable(comparisons: readonly Comparison[], groups: readonly GroupSummary[]): Table {
  const name = (id: string) => {
    const g = groups.find((x) => x.group === id);
    return g ? groupLabel(g) : id.replace(/^baseline:/, 'baseline ');
  };
  return {
    head: ['a', 'b', 'metric', 'seeds', 'mean difference a - b', '95% CI', 'test', 'p', 'adjusted p', 'significant', 'detectable difference'],
    rows: comparisons.map((c) => {
      const f = c.metric === 'meanMoc' ? pct : f3;
      return [
        name(c.a), name(c.b), c.metric === 'meanMoc' ? 'mean MoC (points)' : 'balance H', String(c.n), signed(c.meanDiff, f),
        Number.isFinite(c.ci95[0]) ? `[${signed(c.ci95[0], f)}, ${signed(c.ci95[1], f)}]` : '-',
        c.test, formatP(c.p), formatP(c.pAdjusted), c.pAdjusted < 0.05 ? 'yes' : 'no', Number.isFinite(c.minDetectable) ? f(c.minDetectable) : '-',
      ];
    }),
  };
}
