import type { DemoResult } from '../darai-demo.js';
import type { CellResult } from '../run-cell.js';

/**
 * `results.csv` of a grid run: one row per cell and seed, MoC per (obs, pred), gains and H per
 * observation ratio, numbers to 6 significant digits (empty where there is none).
 *
 * @example
 * resultsCsv(report.results).split('\n')[0]; // 'cell,partner,fuser,exchange_ratio,seed,mean_moc,moc_obs0.2_pred0.1,...'
 */
export function resultsCsv(results: readonly CellResult[]): string {
  const mocKeys = results[0]?.moc.map((m) => [m.observationRatio, m.predictionRatio] as const) ?? [];
  const ratios = results.find((r) => r.ranks.length)?.ranks.map((p) => p.observationRatio) ?? [];
  const head = [
    'cell', 'partner', 'fuser', 'exchange_ratio', 'seed', 'mean_moc',
    ...mocKeys.map(([o, p]) => `moc_obs${o}_pred${p}`),
    ...ratios.flatMap((r) => [`gain_rgb_obs${r}`, `gain_partner_obs${r}`, `h_obs${r}`]),
    'after_tokens', 'seconds', 'backend',
  ];
  const num = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? '' : String(Number(x.toPrecision(6))));
  const lines = results.map((r) => [
    r.cell.id, r.cell.partner, r.cell.fuser, num(r.cell.exchangeRatio), String(r.cell.seed), num(r.meanMoc),
    ...mocKeys.map(([o, p]) => num(r.moc.find((m) => m.observationRatio === o && m.predictionRatio === p)?.moc)),
    ...ratios.flatMap((ratio) => {
      const p = r.ranks.find((x) => x.observationRatio === ratio);
      return [num(p?.gainRgb), num(p?.gainPartner), num(p?.balance)];
    }),
    r.afterTokens, r.seconds.toFixed(1), r.backend,
  ].join(','));
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
