import type { GridReport } from '../analysis/grid-report.js';
import { cellBalance } from '../analysis/summary.js';
import type { DemoResult } from '../darai-demo.js';

const num = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? '' : String(Number(x.toPrecision(6))));
const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/**
 * `results.csv` of a grid run, one table in long form whose first column says what a row is:
 * `cell` (one per cell and seed: MoC per (obs, pred), gains and H per observation ratio, the
 * cell's H), `baseline` (MoC of each baseline), `group` (one per group and metric: mean, std, 95%
 * interval and n over seeds, for mean MoC, H and each (obs, pred) MoC) and `comparison` (a, b,
 * metric, n, mean difference, 95% interval, test, p, Holm-adjusted p, detectable difference).
 * Columns a row kind does not use are empty; numbers have 6 significant digits.
 *
 * @example
 * resultsCsv(report).split('\n')[0]; // 'row,id,partner,fuser,exchange_ratio,seed,mean_moc,moc_obs0.2_pred0.1,...'
 */
export function resultsCsv(report: Pick<GridReport, 'results' | 'groups' | 'baselines' | 'comparisons'>): string {
  const { results } = report;
  const mocKeys = results[0]?.moc.map((m) => [m.observationRatio, m.predictionRatio] as const) ?? [];
  const mocName = ([o, p]: readonly [number, number]) => `moc_obs${o}_pred${p}`;
  const ratios = results.find((r) => r.ranks.length)?.ranks.map((p) => p.observationRatio) ?? [];
  const head = [
    'row', 'id', 'partner', 'fuser', 'exchange_ratio', 'seed', 'mean_moc',
    ...mocKeys.map(mocName),
    ...ratios.flatMap((r) => [`gain_rgb_obs${r}`, `gain_partner_obs${r}`, `h_obs${r}`]),
    'h', 'after_tokens', 'seconds', 'backend',
    'metric', 'a', 'b', 'n', 'mean', 'std', 'ci95_low', 'ci95_high', 'mean_diff', 'test', 'p', 'p_adjusted', 'min_detectable',
  ];
  const row = (values: Record<string, string>) => head.map((h) => quote(values[h] ?? '')).join(',');
  const lines: string[] = [];
  for (const r of results) {
    const v: Record<string, string> = {
      row: 'cell', id: r.cell.id, partner: r.cell.partner, fuser: r.cell.fuser, exchange_ratio: num(r.cell.exchangeRatio), seed: String(r.cell.seed), mean_moc: num(r.meanMoc),
      h: num(cellBalance(r)), after_tokens: r.afterTokens, seconds: r.seconds.toFixed(1), backend: r.backend,
    };
    for (const k of mocKeys) v[mocName(k)] = num(r.moc.find((m) => m.observationRatio === k[0] && m.predictionRatio === k[1])?.moc);
    for (const ratio of ratios) {
      const p = r.ranks.find((x) => x.observationRatio === ratio);
      [v[`gain_rgb_obs${ratio}`], v[`gain_partner_obs${ratio}`], v[`h_obs${ratio}`]] = [num(p?.gainRgb), num(p?.gainPartner), num(p?.balance)];
    }
    lines.push(row(v));
  }
  for (const b of report.baselines) {
    const v: Record<string, string> = { row: 'baseline', id: `baseline:${b.name}`, mean_moc: num(b.meanMoc) };
    for (const k of mocKeys) v[mocName(k)] = num(b.moc.find((m) => m.observationRatio === k[0] && m.predictionRatio === k[1])?.moc);
    lines.push(row(v));
  }
  for (const g of report.groups) {
    const base = { row: 'group', id: g.group, partner: g.partner, fuser: g.fuser, exchange_ratio: num(g.exchangeRatio) };
    const metrics = [['meanMoc', g.meanMoc], ['H', g.H], ...g.moc.map((m) => [mocName([m.observationRatio, m.predictionRatio]), m] as const)] as const;
    for (const [metric, e] of metrics) {
      lines.push(row({ ...base, metric, n: String(e.n), mean: num(e.mean), std: num(e.std), ci95_low: num(e.ci95[0]), ci95_high: num(e.ci95[1]) }));
    }
  }
  for (const c of report.comparisons) {
    lines.push(row({
      row: 'comparison', id: `${c.a} - ${c.b}`, metric: c.metric, a: c.a, b: c.b, n: String(c.n), std: num(c.std), mean_diff: num(c.meanDiff),
      ci95_low: num(c.ci95[0]), ci95_high: num(c.ci95[1]), test: c.test, p: num(c.p), p_adjusted: num(c.pAdjusted), min_detectable: num(c.minDetectable),
    }));
  }
  return `${[head.join(','), ...lines].join('\n')}\n`;
}

/**
 * `results.csv` of the darai-demo analysis: one row per observation ratio, gains, H and the four
 * effective ranks they come from, at full precision.
 *
 * @example
 * demoCsv(demo).split('\n')[0]; // 'obs,gain_rgb,gain_depth,h,erank_rgb_before,...,sequences'
 */
export function demoCsv(demo: DemoResult): string {
  const csv = ['obs,gain_rgb,gain_depth,h,erank_rgb_before,erank_rgb_after,erank_depth_before,erank_depth_after,sequences', ...demo.ranks.map((r) => [r.observationRatio, r.gainRgb, r.gainPartner, r.balance, r.erank.rgbBefore, r.erank.rgbAfter, r.erank.partnerBefore, r.erank.partnerAfter, r.samples].join(','))].join('\n');
  return `${csv}\n`;
}
