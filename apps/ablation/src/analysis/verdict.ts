import { SIGN_FLIP_MAX_N, SIGN_FLIP_MIN_N } from './stats.js';
import { ALPHA, type Comparison } from './comparisons.js';
import type { GroupSummary } from './summary.js';
import type { BaselineResult } from './baselines.js';

/** The verdict of a report: the claims the statistics carry and what the reader must keep in mind. */
export interface Verdict {
  /** One Markdown sentence per comparison with a Holm-adjusted p below ALPHA (winner first, positive difference). */
  claims: string[];
  /** What is not significant (and the smallest difference the seeds could detect), disclosures, the design. */
  caveats: string[];
  /** The claims as one paragraph, or the first caveat when nothing is significant. */
  text: string;
}

/** What the verdict needs besides the statistics. */
export interface VerdictContext {
  fusers: readonly string[];
  dataset: string;
  /** The partners the grid ran (for the disclosures). */
  partners: readonly string[];
}

const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
const num3 = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;

/**
 * A p-value as the report prints it: 2 significant digits, "< 0.0001" below that.
 *
 * @example
 * formatP(0.000123); // '< 0.0001'
 * formatP(0.0312);   // '0.031'
 */
export function formatP(p: number): string {
  if (!Number.isFinite(p)) return '-';
  if (p < 1e-4) return '< 0.0001';
  return String(Number(p.toPrecision(2)));
}

/**
 * A comparison's difference as the report prints it: points of MoC (`+5.1 points of mean MoC`) or
 * H (`H +0.512`), with the 95% interval and the adjusted p, oriented so that the difference is
 * positive when `flip` is true.
 *
 * @example
 * effectText(c); // '+5.1 points of mean MoC (95% CI +2.0 to +8.2; adjusted p 0.0031)'
 */
export function effectText(c: Comparison, flip = false): string {
  const s = flip ? -1 : 1;
  const [lo, hi] = flip ? [-c.ci95[1], -c.ci95[0]] : c.ci95;
  const f = c.metric === 'meanMoc' ? pts : num3;
  const d = s * c.meanDiff;
  const what = c.metric === 'meanMoc' ? `${f(d)} points of mean MoC` : `H ${f(d)}`;
  return `${what} (95% CI ${f(lo)} to ${f(hi)}; adjusted p ${formatP(c.pAdjusted)})`;
}

const groupById = (groups: readonly GroupSummary[], id: string) => groups.find((g) => g.group === id);
const fuserText = (g: GroupSummary) => `${g.fuser}${g.exchangeRatio != null ? ` (${g.exchangeRatio})` : ''}`;

function claimOf(c: Comparison, groups: readonly GroupSummary[], baselines: readonly BaselineResult[]): string {
  const a = groupById(groups, c.a);
  const b = groupById(groups, c.b);
  const up = c.meanDiff > 0;
  const does = c.metric === 'meanMoc' ? 'anticipates' : 'balances the two modalities\u2019 ranks';
  switch (c.kind) {
    case 'rgb-vs-baseline': {
      const name = c.b.replace(/^baseline:/, '');
      const base = baselines.find((x) => x.name === name);
      return `RGB alone ${up ? 'beats' : 'is worse than'} the ${name} baseline (${base ? `${(100 * base.meanMoc).toFixed(1)}%` : '-'}): ${effectText(c, !up)}.`;
    }
    case 'partner-vs-rgb':
      return `**${a!.partner}** + ${fuserText(a!)} ${does} ${up ? 'better' : 'worse'} than RGB alone: ${effectText(c, !up)}.`;
    case 'rtf-vs-mean':
      return `With **${a!.partner}**, **${fuserText(a!)}** ${does} ${up ? 'better' : 'worse'} than the mean fuser: ${effectText(c, !up)}.`;
    case 'partner-vs-partner': {
      const [win, lose] = up ? [a!, b!] : [b!, a!];
      return `With ${fuserText(a!)}, **${win.partner}** ${does} better than **${lose.partner}**: ${effectText(c, !up)}.`;
    }
  }
}

/**
 * Turns the comparisons into the verdict. A partner or fuser is named only by a comparison whose
 * Holm-adjusted p is below ALPHA (0.05). Otherwise the caveats say that no difference is
 * significant at this many seeds and give the range of the smallest differences the seeds could
 * detect; they say whether the partner with the highest H is also the one that anticipates best
 * only as far as the comparisons carry it; they disclose what the synthetic text partner is made
 * of, and the design (test, pairing, adjustment).
 *
 * @example
 * const verdict = verdictOf(groups, compareGroups(results, groups, baselines), baselines, { fusers: config.fusers, dataset: 'synthetic', partners: config.partners });
 * verdict.claims; // ['RGB alone beats the repeat-last baseline (16.1%): +9.3 points of mean MoC (95% CI ...)', ...]
 */
export function verdictOf(groups: readonly GroupSummary[], comparisons: readonly Comparison[], baselines: readonly BaselineResult[], context: VerdictContext): Verdict {
  const significant = (c: Comparison) => c.pAdjusted < ALPHA;
  const claims = comparisons.filter(significant).map((c) => claimOf(c, groups, baselines));
  const caveats: string[] = [];
  const seeds = [...new Set(comparisons.map((c) => c.n))];
  const nText = seeds.length === 1 ? `${seeds[0]} seeds` : `${Math.min(...seeds)} to ${Math.max(...seeds)} seeds`;

  for (const c of comparisons.filter((x) => x.kind === 'rgb-vs-baseline' && !(significant(x) && x.meanDiff > 0))) {
    caveats.push(`RGB alone does not beat the ${c.b.replace(/^baseline:/, '')} baseline significantly (adjusted p ${formatP(c.pAdjusted)}): the model may not have learned to anticipate, and its differences mean little.`);
  }
  for (const metric of ['meanMoc', 'H'] as const) {
    const between = comparisons.filter((c) => c.kind !== 'rgb-vs-baseline' && c.metric === metric);
    const quiet = between.filter((c) => !significant(c));
    if (quiet.length === 0) continue;
    const mdd = quiet.map((c) => c.minDetectable).filter(Number.isFinite);
    const unit = metric === 'meanMoc' ? (x: number) => `${(100 * x).toFixed(1)}` : (x: number) => x.toFixed(3);
    const range = mdd.length ? (Math.min(...mdd) === Math.max(...mdd) ? unit(mdd[0]!) : `${unit(Math.min(...mdd))} to ${unit(Math.max(...mdd))}`) : '-';
    const what = metric === 'meanMoc' ? 'mean MoC' : 'balance H';
    const scale = metric === 'meanMoc' ? ' points' : '';
    caveats.push(
      `${quiet.length === between.length ? `No difference in ${what} between partners or fusers is significant` : `${quiet.length} of ${between.length} comparisons of ${what} ${quiet.length === 1 ? 'is' : 'are'} not significant`} at ${nText} (Holm-adjusted p >= ${ALPHA}), so the verdict names no partner or fuser from ${quiet.length === between.length ? 'them' : 'those'}. ` +
        `With ${nText}, a true difference would have to be about ${range}${scale} of ${what} to be found with 80% power at the strictest Holm level ${ALPHA}/${comparisons.length}.`,
    );
  }
  caveats.push(...balanceVersusMoc(groups, comparisons, context.fusers));
  if (context.dataset === 'synthetic' && context.partners.includes('text')) {
    caveats.push('The synthetic text partner is hashed phrases of the observed frames\u2019 ground-truth action labels: it carries label information, not a sensor reading, so its MoC is not a sensor\u2019s.');
  }
  const tests = [...new Set(comparisons.map((c) => c.test))];
  caveats.push(
    `Design: each comparison pairs the cells of the same seed (same initialisation seed, batch order and test videos) and tests the mean difference with ${tests.map((t) => (t === 'paired-t' ? 'a two-sided paired t-test (df = seeds - 1)' : 'the exact two-sided sign-flip permutation test')).join(' or ')}` +
      ` (the exact test is used from ${SIGN_FLIP_MIN_N} to ${SIGN_FLIP_MAX_N} seeds; below ${SIGN_FLIP_MIN_N} its smallest p, 2/2^n, cannot pass Holm's thresholds); p-values are Holm-adjusted over all ${comparisons.length} comparisons. Seeds vary training randomness on fixed videos: the intervals speak for this data set, not for other data.`,
  );
  const text = claims.length ? claims.join(' ') : caveats[0] ?? 'No comparison could be made.';
  return { claims, caveats, text };
}

// Whether the partner with the highest H also anticipates best, as far as significance carries it.
function balanceVersusMoc(groups: readonly GroupSummary[], comparisons: readonly Comparison[], fusers: readonly string[]): string[] {
  const fuser = fusers.find((f) => f.startsWith('rtf-')) ?? fusers[0];
  const out: string[] = [];
  const ratios = [...new Set(groups.filter((g) => g.fuser === fuser).map((g) => g.exchangeRatio))];
  for (const ratio of ratios) {
    const same = groups.filter((g) => g.partner !== 'rgb' && g.fuser === fuser && g.exchangeRatio === ratio);
    if (same.length < 2) continue;
    const label = fuserText(same[0]!);
    const leader = (metric: 'meanMoc' | 'H') => {
      const best = [...same].filter((g) => Number.isFinite(g[metric].mean)).sort((x, y) => y[metric].mean - x[metric].mean)[0];
      if (!best) return undefined;
      const vs = comparisons.filter((c) => c.kind === 'partner-vs-partner' && c.metric === metric && (c.a === best.group || c.b === best.group) && same.some((g) => g.group === c.a));
      const clear = vs.length === same.length - 1 && vs.every((c) => c.pAdjusted < ALPHA);
      return { best, clear };
    };
    const h = leader('H');
    const moc = leader('meanMoc');
    if (!h || !moc) continue;
    if (h.clear && moc.clear) {
      out.push(
        h.best.partner === moc.best.partner
          ? `With ${label}, **${h.best.partner}** has the highest H and anticipates best, each significantly above every other partner: here the rank balance and anticipation agree.`
          : `With ${label}, **${h.best.partner}** has the highest H and **${moc.best.partner}** anticipates best, each significantly above every other partner: a higher rank balance did not give better anticipation on this data.`,
      );
    } else if (h.clear) {
      out.push(`With ${label}, **${h.best.partner}** has the highest H, significantly above every other partner, but no partner anticipates significantly better than all others: whether the best-balanced partner also anticipates best cannot be told at these seeds.`);
    } else if (moc.clear) {
      out.push(`With ${label}, **${moc.best.partner}** anticipates significantly better than every other partner, but no partner's H is significantly above all others: whether it is also the best-balanced partner cannot be told at these seeds.`);
    } else {
      out.push(`With ${label}, neither H nor mean MoC singles out one partner significantly above all others, so whether the partner with the highest H also anticipates best cannot be told at these seeds.`);
    }
  }
  return out;
}

