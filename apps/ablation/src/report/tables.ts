import type { GroupSummary } from '../analysis/summary.js';
import type { CellResult, RankPoint } from '../run-cell.js';

/** A table as header cells and rows of cells: the Markdown and HTML writers render the same one. */
export interface Table {
  head: string[];
  rows: string[][];
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');
const pm = (m: number, s: number) => (Number.isFinite(m) ? `${pct(m)} ± ${pct(s)}` : '-');

/**
 * How a group is named in tables and figures.
 *
 * @example
 * groupLabel({ partner: 'depth', fuser: 'rtf-variance', exchangeRatio: 0.3 }); // 'depth + rtf-variance (0.3)'
 */
export const groupLabel = (g: Pick<GroupSummary, 'partner' | 'fuser' | 'exchangeRatio'>): string =>
  g.partner === 'rgb' ? 'rgb alone' : `${g.partner} + ${g.fuser}${g.exchangeRatio != null ? ` (${g.exchangeRatio})` : ''}`;

/**
 * The MoC table: one row per partner/fuser group, one column per (obs, pred), mean +- std over seeds (%).
 *
 * @example
 * mocTable(report.groups).rows[1]; // ['depth + mean', '2', '34.0 ± 0.9', ..., '20.8 ± 2.5']
 */
export function mocTable(groups: readonly GroupSummary[]): Table {
  const keys = groups[0]?.moc.map((m) => [m.observationRatio, m.predictionRatio] as const) ?? [];
  const head = ['partner + fuser', 'seeds', ...keys.map(([o, p]) => `obs ${o} / pred ${p}`), 'mean MoC'];
  const rows = groups.map((g) => [
    groupLabel(g),
    String(g.seeds.length),
    ...keys.map(([o, p]) => {
      const m = g.moc.find((x) => x.observationRatio === o && x.predictionRatio === p);
      return m ? pm(m.mean, m.std) : '-';
    }),
    pm(g.meanMoc.mean, g.meanMoc.std),
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
