import type { GroupSummary } from './summary.js';

/** The descriptive leaders: which partner has the highest mean H, which the highest mean MoC, and whether they are the same (no significance: see `verdictOf`). */
export interface Recommendation {
  fuser: string;
  byBalance: { partner: string; meanBalance: number } | null;
  byMoc: { partner: string; meanMoc: number; std: number } | null;
  rgbOnlyMoc: number | null;
  agree: boolean;
  text: string;
}

/**
 * Picks, for the primary fuser (the first RTF fuser of the grid, else the first fuser), the
 * partner with the highest mean balance H over observation ratios and the one with the best mean
 * MoC over seeds, and says whether they agree. These are means, not claims: `text` describes them
 * as such, and the grid report replaces it with the verdict of `verdictOf`, which names a partner
 * only where a Holm-adjusted comparison is significant.
 *
 * @example
 * recommendPartner(summariseGroups(results), ['rtf-variance', 'mean']).byBalance?.partner; // 'depth'
 */
export function recommendPartner(groups: readonly GroupSummary[], fusers: readonly string[]): Recommendation {
  const fuser = fusers.find((f) => f.startsWith('rtf-')) ?? fusers[0] ?? 'none';
  const candidates = groups.filter((g) => g.partner !== 'rgb' && g.fuser === fuser);
  // with several exchange ratios, a partner is judged by its best ratio
  const best = <K extends 'meanBalance'>(key: K) => {
    const byPartner = new Map<string, GroupSummary>();
    for (const g of candidates) {
      const have = byPartner.get(g.partner);
      if (!have || g[key] > have[key]) byPartner.set(g.partner, g);
    }
    return [...byPartner.values()];
  };
  const byB = best('meanBalance').filter((g) => Number.isFinite(g.meanBalance)).sort((a, b) => b.meanBalance - a.meanBalance)[0];
  const mocPartners = new Map<string, GroupSummary>();
  for (const g of candidates) {
    const have = mocPartners.get(g.partner);
    if (!have || g.meanMoc.mean > have.meanMoc.mean) mocPartners.set(g.partner, g);
  }
  const byM = [...mocPartners.values()].filter((g) => Number.isFinite(g.meanMoc.mean)).sort((a, b) => b.meanMoc.mean - a.meanMoc.mean)[0];
  const rgb = groups.find((g) => g.partner === 'rgb');
  const agree = !!byB && !!byM && byB.partner === byM.partner;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  let text: string;
  if (!byB || !byM) text = `No partner of RGB was trained with ${fuser}: nothing to compare.`;
  else {
    // descriptive only: which partner leads says nothing about significance (the verdict decides that)
    text =
      `With ${fuser}, the highest mean balance H is ${byB.partner}'s (${byB.meanBalance.toFixed(3)} over observation ratios) ` +
      `and the highest mean MoC ${byM.partner}'s (${pct(byM.meanMoc.mean)} +- ${pct(byM.meanMoc.std)}` +
      (rgb ? `; RGB alone ${pct(rgb.meanMoc.mean)}` : '') +
      `); means only, see the comparisons for what is significant.`;
  }
  return {
    fuser,
    byBalance: byB ? { partner: byB.partner, meanBalance: byB.meanBalance } : null,
    byMoc: byM ? { partner: byM.partner, meanMoc: byM.meanMoc.mean, std: byM.meanMoc.std } : null,
    rgbOnlyMoc: rgb ? rgb.meanMoc.mean : null,
    agree,
    text,
  };
}
