import { describe, expect, it } from 'vitest';
import { parseAblationConfig } from '../config.js';
import { gridCells, type Cell } from '../grid.js';
import type { CellResult } from '../run-cell.js';
import type { BaselineResult } from './baselines.js';
import { compareGroups } from './comparisons.js';
import { estimate, holmAdjust, minimumDetectableDifference, pairedTest, pairedTTest, regularizedBeta, signFlipTest, studentTQuantile, studentTTwoSided } from './stats.js';
import { summariseGroups } from './summary.js';
import { verdictOf } from './verdict.js';

// Every expected number below is computed by hand from its formula (or, for the t tail
// probabilities, with an independent implementation: scipy.stats 1.17), never by the code under test.
const T975_4 = 2.7764451051977987; // t_{0.975, 4}
const T80_4 = 0.9409645772351816; // t_{0.8, 4}

/** |a - b| <= rel * |b| (or <= rel when b is 0). */
function close(actual: number, expected: number, rel = 1e-9): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(rel * Math.max(Math.abs(expected), 1e-300) + (expected === 0 ? rel : 0));
}

describe('distributions', () => {
  it('t quantiles match the tables', () => {
    close(studentTQuantile(0.975, 4), T975_4, 1e-12);
    close(studentTQuantile(0.8, 4), T80_4, 1e-12);
    close(studentTQuantile(0.975, 2), 4.302652729749462, 1e-12);
    close(studentTQuantile(0.025, 4), -T975_4, 1e-12);
    expect(studentTQuantile(0.5, 7)).toBe(0);
  });

  it('the t tail agrees with the closed form for 4 degrees of freedom', () => {
    // df = 4 has a closed form: two-sided p = 1 - (3/2) x + (1/2) x³ with x = |t| / sqrt(t² + 4)
    for (const t of [0, 0.5, 1.2171612389003692, 2.7764451051977987, 7.071067811865475, 14.142135623730951]) {
      const x = Math.abs(t) / Math.sqrt(t * t + 4);
      close(studentTTwoSided(t, 4), 1 - 1.5 * x + 0.5 * x ** 3, 1e-10);
    }
    close(studentTTwoSided(T975_4, 4), 0.05, 1e-12);
    close(regularizedBeta(0.5, 2, 2), 0.5, 1e-14);
    // I_x(1, b) = 1 - (1 - x)^b
    close(regularizedBeta(0.3, 1, 3.5), 1 - 0.7 ** 3.5, 1e-13);
  });
});

describe('estimates and tests', () => {
  it('a t-interval is mean ± t_{0.975, n-1} s / sqrt(n)', () => {
    const e = estimate([0.2, 0.22, 0.18, 0.21, 0.19]);
    const s = Math.sqrt(0.001 / 4);
    close(e.mean, 0.2, 1e-12);
    close(e.std, s, 1e-12);
    close(e.ci95[0], 0.2 - (T975_4 * s) / Math.sqrt(5), 1e-12);
    close(e.ci95[1], 0.2 + (T975_4 * s) / Math.sqrt(5), 1e-12);
    expect(e.n).toBe(5);
    expect(estimate([0.3]).ci95.every(Number.isNaN)).toBe(true);
    expect(estimate([0.3, Number.NaN, 0.5]).n).toBe(2);
  });

  it('the paired t-test: t = mean / (s / sqrt n), df = n - 1', () => {
    const r = pairedTTest([0.1, 0.12, 0.09, 0.11, 0.08]);
    close(r.t, 0.1 / (Math.sqrt(0.001 / 4) / Math.sqrt(5)), 1e-12); // 14.142135623730951
    expect(r.df).toBe(4);
    close(r.p, 0.00014512817061319757, 1e-9);
    expect(pairedTTest([0.1, 0.1, 0.1])).toMatchObject({ t: Infinity, p: 0 });
    expect(pairedTTest([0, 0, 0])).toMatchObject({ t: 0, p: 1 });
    expect(pairedTTest([0.1]).p).toBeNaN();
  });

  it('the exact sign-flip test: 2^n patterns, smallest two-sided p = 2 / 2^n', () => {
    expect(signFlipTest([1, 2, 3, 4, 5])).toBe(2 / 32);
    expect(signFlipTest([0.1, 0.12, 0.09, 0.11, 0.08])).toBe(2 / 32);
    expect(signFlipTest([1, 2, 3, 4, 5, 6])).toBe(2 / 64);
    // [1, -1, 2, 1]: |sum| = 3. Each sign pattern sums ±2 plus three ±1s (which sum to 3, 1, -1, -3 in
    // 1, 3, 3, 1 patterns); |sum| >= 3 when those three give 3 or 1 with the sign of the 2: 4 + 4 = 8 of 16
    expect(signFlipTest([1, -1, 2, 1])).toBe(8 / 16);
    // 12 of the 32 sums of ±0.004 ±0.006 ±0.012 ±0 ±0.01 reach |0.02| (enumerated by hand, 0 counts both ways)
    expect(signFlipTest([0.004, -0.006, 0.012, 0, 0.01])).toBe(12 / 32);
    expect(signFlipTest([])).toBeNaN();
  });

  it('uses the t-test below 12 pairs (the exact test cannot pass Holm there) and the exact test from 12 to 20', () => {
    expect(pairedTest([1, 2, 3, 4, 5]).test).toBe('paired-t');
    const twelve = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    expect(pairedTest(twelve)).toMatchObject({ test: 'sign-flip', p: 2 / 4096, pSignFlip: 2 / 4096 });
    expect(pairedTest(Array.from({ length: 21 }, (_, i) => i + 1)).test).toBe('paired-t');
  });

  it('Holm: sorted p times m - i + 1, running maximum, capped at 1', () => {
    expect(holmAdjust([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06]);
    expect(holmAdjust([0.5, Number.NaN, 0.001])).toEqual([1, 1, 0.003]);
    expect(holmAdjust([])).toEqual([]);
  });

  it('the minimum detectable difference is (t_{1-α/2, n-1} + t_{power, n-1}) s / sqrt(n)', () => {
    close(minimumDetectableDifference(0.02, 5, 0.05), ((T975_4 + T80_4) * 0.02) / Math.sqrt(5), 1e-12);
    expect(minimumDetectableDifference(0.02, 1, 0.05)).toBeNaN();
  });
});

// Cell results with known effects at n = 5 seeds, rtf-variance only: depth a large MoC effect
// (+10 points), text a small one (+0.4 points, below what 5 seeds can see), imu none; H is
// planted so that depth > imu > text. The baselines are majority class 9% and repeat-last 15%.
const RGB = [0.2, 0.22, 0.18, 0.21, 0.19];
const EFFECT = { rgb: [0, 0, 0, 0, 0], depth: [0.1, 0.12, 0.09, 0.11, 0.08], text: [0.004, -0.006, 0.012, 0, 0.01], imu: [0.01, -0.01, 0.02, -0.02, 0] };
const H = { rgb: [0, 0, 0, 0, 0], depth: [3.0, 3.2, 2.9, 3.1, 3.3], text: [1.0, 1.3, 0.8, 1.1, 1.2], imu: [2.0, 1.9, 2.2, 2.1, 1.8] };
const config = parseAblationConfig({ partners: ['rgb', 'depth', 'text', 'imu'], fusers: ['rtf-variance'], seeds: [1, 2, 3, 4, 5] });
const baselines: BaselineResult[] = [
  { name: 'majority-class', description: 'm', meanMoc: 0.09, moc: [], protocol: 'released' },
  { name: 'repeat-last', description: 'r', meanMoc: 0.15, moc: [], protocol: 'released' },
];
function fake(cell: Cell): CellResult {
  const i = cell.seed - 1;
  const moc = RGB[i]! + EFFECT[cell.partner as keyof typeof EFFECT][i]!;
  const h = H[cell.partner as keyof typeof H][i]!;
  return {
    cell,
    meanMoc: moc,
    moc: [{ observationRatio: 0.2, predictionRatio: 0.1, moc, classes: 5, frames: 40 }],
    afterTokens: cell.partner === 'rgb' ? 'none' : 'exchanged',
    ranks: [{ observationRatio: 0.5, samples: 4, erank: { rgbBefore: 3, rgbAfter: 3 + h, partnerBefore: 2, partnerAfter: 2 + h, fused: 4 }, gainRgb: h, gainPartner: h, balance: h }],
    trainLoss: [1],
    seconds: 1,
    backend: 'wasm',
  };
}

describe('comparisons and verdict on known effects (n = 5)', () => {
  const results = gridCells(config).map(fake);
  const groups = summariseGroups(results);
  const comparisons = compareGroups(results, groups, baselines);
  const verdict = verdictOf(groups, comparisons, baselines, { fusers: config.fusers, dataset: 'synthetic', partners: config.partners });
  const find = (a: string, b: string, metric = 'meanMoc') => comparisons.find((c) => c.a === a && c.b === b && c.metric === metric)!;
  const [depth, text, imu, rgb] = ['depth.rtf-variance.r0.3', 'text.rtf-variance.r0.3', 'imu.rtf-variance.r0.3', 'rgb.none'];
  const m = 11;
  const mdd = (s: number) => ((studentTQuantile(1 - 0.05 / m / 2, 4) + T80_4) * s) / Math.sqrt(5);

  it('lists the comparisons: baselines, each partner against RGB alone, each pair of partners (MoC and H)', () => {
    expect(comparisons.map((c) => `${c.a} - ${c.b} ${c.metric}`)).toEqual([
      `${rgb} - baseline:majority-class meanMoc`, `${rgb} - baseline:repeat-last meanMoc`,
      `${depth} - ${rgb} meanMoc`, `${text} - ${rgb} meanMoc`, `${imu} - ${rgb} meanMoc`,
      `${depth} - ${text} meanMoc`, `${depth} - ${imu} meanMoc`, `${text} - ${imu} meanMoc`,
      `${depth} - ${text} H`, `${depth} - ${imu} H`, `${text} - ${imu} H`,
    ]);
    expect(comparisons.every((c) => c.n === 5 && c.test === 'paired-t')).toBe(true);
  });

  it('gives mean differences, t-intervals, p-values and Holm-adjusted p-values as computed by hand', () => {
    // p in ascending order times 11 - i + 1: 7.05e-7 (H depth-text) x11, 9.97e-5 x10, 1.45e-4 x9, 7.20e-4 x8,
    // 1.336e-3 (H depth-imu) x7, 1.385e-3 x6 = 8.31e-3 (below the running max 7 x 1.336e-3 = 9.355e-3),
    // 2.111e-3 x5, 3.552e-3 x4, 0.2904 x3, 0.4828 x2, 1 x1
    const rows: Array<[string, string, string, number, number, number, number]> = [
      [rgb, 'baseline:majority-class', 'meanMoc', 0.11, Math.sqrt(0.001 / 4), 9.968968587183497e-5, 10 * 9.968968587183497e-5],
      [rgb, 'baseline:repeat-last', 'meanMoc', 0.05, Math.sqrt(0.001 / 4), 0.0021106458450912712, 5 * 0.0021106458450912712],
      [depth, rgb, 'meanMoc', 0.1, Math.sqrt(0.001 / 4), 0.00014512817061319757, 9 * 0.00014512817061319757],
      [text, rgb, 'meanMoc', 0.004, 0.007348469228349534, 0.29044054410927445, 3 * 0.29044054410927445],
      [imu, rgb, 'meanMoc', 0, Math.sqrt(0.001 / 4), 1, 1],
      [depth, text, 'meanMoc', 0.096, 0.02289104628451919, 0.0007203803784344705, 8 * 0.0007203803784344705],
      [depth, imu, 'meanMoc', 0.1, 0.028284271247461905, 0.0013849379404235038, 7 * 0.0013364076149437534],
      [text, imu, 'meanMoc', 0.004, 0.011575836902790225, 0.482838495439692, 2 * 0.482838495439692],
      [depth, text, 'H', 2.02, 0.08366600265340733, 7.047078510153749e-7, 11 * 7.047078510153749e-7],
      [depth, imu, 'H', 1.1, 0.3082207001484489, 0.0013364076149437534, 7 * 0.0013364076149437534],
      [text, imu, 'H', -0.92, 0.33466401061363027, 0.003552294602136741, 4 * 0.003552294602136741],
    ];
    for (const [a, b, metric, mean, sd, p, pAdj] of rows) {
      const c = find(a, b, metric);
      close(c.meanDiff, mean, 1e-9);
      close(c.std, sd, 1e-8);
      close(c.ci95[0], mean - (T975_4 * sd) / Math.sqrt(5), 1e-8);
      close(c.ci95[1], mean + (T975_4 * sd) / Math.sqrt(5), 1e-8);
      close(c.p, p, 1e-7);
      close(c.pAdjusted, pAdj, 1e-7);
      close(c.minDetectable, mdd(sd), 1e-8);
    }
    expect(find(depth, rgb).pSignFlip).toBe(2 / 32);
  });

  it('the group summaries carry mean, std and t-interval over seeds', () => {
    const g = groups.find((x) => x.group === rgb)!;
    const s = Math.sqrt(0.001 / 4);
    close(g.meanMoc.mean, 0.2, 1e-12);
    close(g.meanMoc.ci95[1], 0.2 + (T975_4 * s) / Math.sqrt(5), 1e-12);
    const d = groups.find((x) => x.group === depth)!;
    close(d.H.mean, 3.1, 1e-12);
    close(d.H.ci95[0], 3.1 - (T975_4 * Math.sqrt(0.1 / 4)) / Math.sqrt(5), 1e-12);
  });

  it('claims exactly the comparisons with adjusted p < 0.05: the large effect and the baselines, never the small or the null one', () => {
    expect(verdict.claims).toHaveLength(8);
    expect(verdict.claims[0]).toMatch(/^RGB alone beats the majority-class baseline \(9\.0%\): \+11\.0 points of mean MoC \(95% CI \+9\.0 to \+13\.0; adjusted p 0\.001\)\.$/);
    expect(verdict.claims[1]).toMatch(/^RGB alone beats the repeat-last baseline \(15\.0%\): \+5\.0 points/);
    expect(verdict.claims[2]).toBe('**depth** + rtf-variance (0.3) anticipates better than RGB alone: +10.0 points of mean MoC (95% CI +8.0 to +12.0; adjusted p 0.0013).');
    expect(verdict.claims.join(' ')).not.toMatch(/\*\*text\*\* \+ rtf-variance|\*\*imu\*\* \+ rtf-variance|\*\*text\*\* anticipates better|\*\*imu\*\* anticipates better/);
    // H: imu balances better than text, written winner first with a positive difference
    expect(verdict.claims).toContain('With rtf-variance (0.3), **imu** balances the two modalities\u2019 ranks better than **text**: H +0.920 (95% CI +0.504 to +1.336; adjusted p 0.014).');
  });

  it('says what is not significant at 5 seeds and the smallest differences those seeds could detect', () => {
    const lo = (100 * mdd(0.007348469228349534)).toFixed(1); // 2.2
    const hi = (100 * mdd(Math.sqrt(0.001 / 4))).toFixed(1); // 4.7
    expect(verdict.caveats[0]).toBe(
      `3 of 6 comparisons of mean MoC are not significant at 5 seeds (Holm-adjusted p >= 0.05), so the verdict names no partner or fuser from those. With 5 seeds, a true difference would have to be about ${lo} to ${hi} points of mean MoC to be found with 80% power at the strictest Holm level 0.05/11.`,
    );
    expect(verdict.caveats).toContain('With rtf-variance (0.3), **depth** has the highest H and anticipates best, each significantly above every other partner: here the rank balance and anticipation agree.');
    expect(verdict.caveats.some((c) => /hashed phrases of the observed frames.*label information/.test(c))).toBe(true);
  });

  it('with no effect anywhere, claims nothing about partners', () => {
    const flat = gridCells(config).map((cell) => ({ ...fake(cell), meanMoc: RGB[cell.seed - 1]! + EFFECT.imu[cell.seed - 1]! * (cell.partner === 'rgb' ? 0 : 1) }));
    const g = summariseGroups(flat);
    const v = verdictOf(g, compareGroups(flat, g), [], { fusers: config.fusers, dataset: 'synthetic', partners: ['rgb', 'depth'] });
    expect(v.claims.filter((c) => /MoC/.test(c))).toEqual([]);
    expect(v.caveats[0]).toMatch(/^No difference in mean MoC between partners or fusers is significant at 5 seeds/);
  });
});
