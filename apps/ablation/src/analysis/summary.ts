import { harmonicBalance } from '@r3d-ts/rank-metrics';
import { type Cell, groupOf } from '../grid.js';
import type { CellResult } from '../run-cell.js';
import { type Estimate, estimate } from './stats.js';

// The statistics of a grid run: per (partner, fuser, ratio) group, MoC and effective-rank gains
// over seeds, and the balance H of the mean gains.

/**
 * Mean and sample standard deviation (0 for one value) of the finite values.
 *
 * @example
 * meanStd([0.2, 0.3, Number.NaN]); // { mean: 0.25, std: 0.0707..., n: 2 }
 */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/**
 * How a group is named in tables and figures.
 *
 * @example
 * groupLabel({ partner: 'depth', fuser: 'rtf-variance', exchangeRatio: 0.3 }); // 'depth + rtf-variance (0.3)'
 */
export const groupLabel = (g: Pick<GroupSummary, 'partner' | 'fuser' | 'exchangeRatio'>): string =>
  g.partner === 'rgb' ? 'rgb alone' : `${g.partner} + ${g.fuser}${g.exchangeRatio != null ? ` (${g.exchangeRatio})` : ''}`;

/** One (partner, fuser, ratio) group over its seeds. */
export interface GroupSummary {
  group: string;
  partner: Cell['partner'];
  fuser: Cell['fuser'];
  exchangeRatio: number | null;
  seeds: number[];
  /** Mean MoC over the (obs, pred) grid: mean, std and 95% t-interval over seeds. */
  meanMoc: Estimate;
  /** Per (obs, pred): MoC mean, std and 95% t-interval over seeds. */
  moc: Array<{ observationRatio: number; predictionRatio: number } & Estimate>;
  /** Balance H per seed (the mean over rank observation ratios of the seed's H), over seeds. */
  H: Estimate;
  /** Per rank observation ratio: gains averaged over seeds and H of those means. */
  ranks: Array<{ observationRatio: number; gainRgb: number; gainPartner: number; balance: number; balanceStd: number }>;
  /** Mean over observation ratios of H (the partner's overall balance). */
  meanBalance: number;
  afterTokens: CellResult['afterTokens'];
  seconds: number;
}

/**
 * A cell's balance H: the mean over its rank observation ratios of H (NaN without rank points;
 * 0 for RGB alone, which has no partner).
 *
 * @example
 * cellBalance(readCell('out/ablation', 'depth.rtf-variance.r0.3.s1')!); // e.g. 4.06
 */
export function cellBalance(result: Pick<CellResult, 'ranks'>): number {
  return result.ranks.length ? result.ranks.reduce((a, p) => a + p.balance, 0) / result.ranks.length : Number.NaN;
}

/**
 * Groups cell results by (partner, fuser, ratio) and summarises each over its seeds: MoC mean, std
 * and 95% t-interval per (obs, pred) and overall, per-seed H with its interval, effective-rank
 * gains averaged per observation ratio, and H of those mean gains (`ranks`, `meanBalance`: the
 * figures' curves). Groups come in partner order rgb, depth, text, imu.
 *
 * @example
 * summariseGroups(readCells('out/ablation')).map((g) => [g.group, g.meanBalance]);
 */
export function summariseGroups(results: readonly CellResult[]): GroupSummary[] {
  const groups = new Map<string, CellResult[]>();
  for (const r of results) {
    const g = groupOf(r.cell);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(r);
  }
  const out: GroupSummary[] = [];
  for (const [group, rs] of groups) {
    rs.sort((a, b) => a.cell.seed - b.cell.seed);
    const c = rs[0]!.cell;
    const mocKeys = rs[0]!.moc.map((m) => [m.observationRatio, m.predictionRatio] as const);
    const moc = mocKeys.map(([o, p]) => {
      return { observationRatio: o, predictionRatio: p, ...estimate(rs.map((r) => r.moc.find((m) => m.observationRatio === o && m.predictionRatio === p)?.moc ?? Number.NaN)) };
    });
    const ranks = rs[0]!.ranks.map((p0) => {
      const pts = rs.map((r) => r.ranks.find((p) => p.observationRatio === p0.observationRatio)!).filter(Boolean);
      const gainRgb = meanStd(pts.map((p) => p.gainRgb)).mean;
      const gainPartner = meanStd(pts.map((p) => p.gainPartner)).mean;
      return { observationRatio: p0.observationRatio, gainRgb, gainPartner, balance: harmonicBalance(gainRgb, gainPartner), balanceStd: meanStd(pts.map((p) => p.balance)).std };
    });
    out.push({
      group,
      partner: c.partner,
      fuser: c.fuser,
      exchangeRatio: c.exchangeRatio,
      seeds: rs.map((r) => r.cell.seed),
      meanMoc: estimate(rs.map((r) => r.meanMoc)),
      moc,
      H: estimate(rs.map(cellBalance)),
      ranks,
      meanBalance: ranks.length ? ranks.reduce((a, p) => a + p.balance, 0) / ranks.length : Number.NaN,
      afterTokens: rs[0]!.afterTokens,
      seconds: rs.reduce((a, r) => a + r.seconds, 0),
    });
  }
  const partnerOrder = ['rgb', 'depth', 'text', 'imu', 'informative', 'redundant', 'noise'];
  return out.sort((a, b) => partnerOrder.indexOf(a.partner) - partnerOrder.indexOf(b.partner) || a.group.localeCompare(b.group));
}
