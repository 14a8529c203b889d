import { groupOf } from '../grid.js';
import type { CellResult } from '../run-cell.js';
import type { BaselineResult } from './baselines.js';
import { estimate, holmAdjust, minimumDetectableDifference, pairedTest, type PairedTest } from './stats.js';
import { cellBalance, type GroupSummary } from './summary.js';

// Paired comparisons of a grid run: every difference is taken seed by seed (the same seed trains
// both sides on the same videos, in the same order, tested on the same test videos), tested, and
// Holm-adjusted over every comparison of the report.

/** The family-wise level the verdict holds its claims to. */
export const ALPHA = 0.05;

/** What a comparison measures: mean MoC over the (obs, pred) grid, or balance H (mean over rank ratios). */
export type ComparisonMetric = 'meanMoc' | 'H';

export type ComparisonKind = 'rgb-vs-baseline' | 'partner-vs-rgb' | 'rtf-vs-mean' | 'partner-vs-partner';

/** One paired comparison, a minus b, over the seeds both sides have. */
export interface Comparison {
  kind: ComparisonKind;
  /** Group ids (`depth.rtf-variance.r0.3`), or `baseline:<name>`. */
  a: string;
  b: string;
  metric: ComparisonMetric;
  seeds: number[];
  n: number;
  /** Mean of a - b over the paired seeds, its standard deviation and 95% t-interval. */
  meanDiff: number;
  std: number;
  ci95: [number, number];
  test: PairedTest['test'];
  /** Two-sided p of the test named by `test`; `pT` and `pSignFlip` give both tests. */
  p: number;
  pT: number;
  pSignFlip: number;
  /** Holm-adjusted over every comparison of the report. */
  pAdjusted: number;
  /** The smallest true difference this many seeds detect with 80% power at Holm's strictest level ALPHA / m. */
  minDetectable: number;
}

const isRtf = (fuser: string) => fuser.startsWith('rtf-');
// fusers whose "after" tokens are each modality's own (exchanged or out of a cross-modal block): H compares there
const hasOwnAfterTokens = (g: GroupSummary) => g.afterTokens === 'exchanged' || g.afterTokens === 'block';

/**
 * Every paired comparison of a grid run, Holm-adjusted together:
 * RGB alone against each baseline (mean MoC; the baseline is one number, so the test is of RGB's
 * seeds against it); each partner + fuser against RGB alone (mean MoC); each RTF fuser against the
 * `mean` fuser with the same partner (mean MoC); each pair of partners under the same fuser and
 * ratio (mean MoC, and H where the fuser keeps each modality's tokens). Groups come in the order
 * of `summariseGroups`; a pair is (earlier partner) minus (later partner).
 *
 * @example
 * const comparisons = compareGroups(report.results, report.groups, baselines);
 * comparisons.filter((c) => c.pAdjusted < ALPHA);
 */
export function compareGroups(results: readonly CellResult[], groups: readonly GroupSummary[], baselines: readonly BaselineResult[] = []): Comparison[] {
  const perSeed = new Map<string, Map<ComparisonMetric, Map<number, number>>>();
  for (const r of results) {
    const g = groupOf(r.cell);
    if (!perSeed.has(g)) perSeed.set(g, new Map([['meanMoc', new Map()], ['H', new Map()]]));
    perSeed.get(g)!.get('meanMoc')!.set(r.cell.seed, r.meanMoc);
    perSeed.get(g)!.get('H')!.set(r.cell.seed, cellBalance(r));
  }
  const drafts: Array<Omit<Comparison, 'pAdjusted' | 'minDetectable'>> = [];
  const add = (kind: ComparisonKind, a: string, b: string, metric: ComparisonMetric, pairs: Array<[number, number]>) => {
    const kept = pairs.filter(([, d]) => Number.isFinite(d));
    if (kept.length === 0) return;
    const diffs = kept.map(([, d]) => d);
    const e = estimate(diffs);
    const t = pairedTest(diffs);
    drafts.push({ kind, a, b, metric, seeds: kept.map(([s]) => s), n: e.n, meanDiff: e.mean, std: e.std, ci95: e.ci95, test: t.test, p: t.p, pT: t.pT, pSignFlip: t.pSignFlip });
  };
  const paired = (a: string, b: string, metric: ComparisonMetric): Array<[number, number]> => {
    const va = perSeed.get(a)?.get(metric);
    const vb = perSeed.get(b)?.get(metric);
    if (!va || !vb) return [];
    return [...va.keys()].filter((s) => vb.has(s)).sort((x, y) => x - y).map((s) => [s, va.get(s)! - vb.get(s)!]);
  };

  const rgb = groups.find((g) => g.partner === 'rgb');
  if (rgb) {
    for (const base of baselines) {
      const values = perSeed.get(rgb.group)!.get('meanMoc')!;
      add('rgb-vs-baseline', rgb.group, `baseline:${base.name}`, 'meanMoc', [...values.entries()].sort((x, y) => x[0] - y[0]).map(([s, v]) => [s, v - base.meanMoc]));
    }
  }
  const others = groups.filter((g) => g.partner !== 'rgb');
  if (rgb) for (const g of others) add('partner-vs-rgb', g.group, rgb.group, 'meanMoc', paired(g.group, rgb.group, 'meanMoc'));
  for (const g of others.filter((x) => isRtf(x.fuser))) {
    const mean = others.find((x) => x.partner === g.partner && x.fuser === 'mean');
    if (mean) add('rtf-vs-mean', g.group, mean.group, 'meanMoc', paired(g.group, mean.group, 'meanMoc'));
  }
  const settings = [...new Map(others.map((g) => [`${g.fuser}|${g.exchangeRatio}`, g])).values()];
  for (const metric of ['meanMoc', 'H'] as const) {
    for (const s of settings) {
      const same = others.filter((g) => g.fuser === s.fuser && g.exchangeRatio === s.exchangeRatio);
      if (metric === 'H' && !same.every(hasOwnAfterTokens)) continue;
      for (let i = 0; i < same.length; i++) for (let j = i + 1; j < same.length; j++) add('partner-vs-partner', same[i]!.group, same[j]!.group, metric, paired(same[i]!.group, same[j]!.group, metric));
    }
  }

  const adjusted = holmAdjust(drafts.map((d) => d.p));
  const m = drafts.length;
  return drafts.map((d, i) => ({ ...d, pAdjusted: adjusted[i]!, minDetectable: minimumDetectableDifference(d.std, d.n, ALPHA / m) }));
}
