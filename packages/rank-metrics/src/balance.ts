import { check } from './errors.js';
import { type MatrixInput, toMatrix64 } from './matrix.js';
import { effectiveRank, type EffectiveRankVariant } from './effective-rank.js';
import { spectrumOf } from './spectrum.js';

/**
 * The harmonic-mean balance H of two modalities' effective-rank gains (METHOD.md §1):
 * 2 g_a g_b / (g_a + g_b), and 0 when either gain is <= 0. High H means the exchange raised
 * both ranks: no modality collapsed into the other.
 *
 * @example
 * harmonicBalance(0.6296, 1.6661); // ~0.9139 (DARai, RGB + depth, obs 0.9)
 * harmonicBalance(0.5, -0.1);      // 0
 */
export function harmonicBalance(gainA: number, gainB: number): number {
  check(Number.isFinite(gainA) && Number.isFinite(gainB), 'NON_FINITE', () => `harmonicBalance: gains must be finite, got ${gainA} and ${gainB}`);
  if (gainA <= 0 || gainB <= 0) return 0;
  return (2 * gainA * gainB) / (gainA + gainB);
}

/** Mean gains of a pair over samples and their balance, as the paper's figure reports them. */
export interface MutualGain {
  /** Mean over samples of erank(after) - erank(before) for the first modality (RGB). */
  gainA: number;
  /** The same for the partner. */
  gainB: number;
  /** harmonicBalance(gainA, gainB) of the means. */
  balance: number;
  /** Per-sample gains. */
  perSampleA: Float64Array;
  perSampleB: Float64Array;
}

/**
 * Mutual gain of a modality pair over samples: each sample's effective rank before and after
 * fusion, per modality; the per-sample gains are averaged, then combined into H.
 *
 * @example
 * const g = mutualGain({ beforeA: rgb, afterA: rgbX, beforeB: depth, afterB: depthX }); // arrays of (T, C) matrices
 * g.balance;
 */
export function mutualGain(
  pairs: { beforeA: MatrixInput[]; afterA: MatrixInput[]; beforeB: MatrixInput[]; afterB: MatrixInput[] },
  options: { variant?: EffectiveRankVariant } = {},
): MutualGain {
  const n = pairs.beforeA.length;
  for (const key of ['afterA', 'beforeB', 'afterB'] as const) {
    check(pairs[key].length === n, 'SHAPE_MISMATCH', () => `mutualGain: ${key} has ${pairs[key].length} samples, beforeA has ${n}`);
  }
  check(n > 0, 'INVALID_INPUT', () => 'mutualGain: needs at least one sample');
  const perSampleA = new Float64Array(n);
  const perSampleB = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    perSampleA[i] = effectiveRank(pairs.afterA[i]!, options) - effectiveRank(pairs.beforeA[i]!, options);
    perSampleB[i] = effectiveRank(pairs.afterB[i]!, options) - effectiveRank(pairs.beforeB[i]!, options);
  }
  const gainA = perSampleA.reduce((a, b) => a + b, 0) / n;
  const gainB = perSampleB.reduce((a, b) => a + b, 0) / n;
  return { gainA, gainB, balance: harmonicBalance(gainA, gainB), perSampleA, perSampleB };
}

/** Everything one needs to judge collapse in one fused pair (one sample). */
export interface CollapseReport {
  erank: { beforeA: number; afterA: number; beforeB: number; afterB: number; fused?: number };
  gainA: number;
  gainB: number;
  balance: number;
  /**
   * Fraction of the fused tokens' energy that lies in each modality's channel subspace (the span
   * of its tokens after exchange), and those two fractions normalised to sum to 1 (`share`).
   * A modality whose share is near 0 has collapsed out of the fused representation.
   */
  explainedA?: number;
  explainedB?: number;
  shareA?: number;
  shareB?: number;
}

function explainedEnergy(fused: MatrixInput, basisOf: MatrixInput): number {
  const f = toMatrix64(fused, 'fused');
  const m = toMatrix64(basisOf, 'modality');
  check(f.cols === m.cols, 'SHAPE_MISMATCH', () => `collapseReport: fused tokens have ${f.cols} channels, the modality has ${m.cols}`);
  const q = Math.min(m.rows, m.cols);
  const { values, rightVectors } = spectrumOf(m, q);
  const tol = Math.max(m.rows, m.cols) * 2 ** -52 * (values[0] ?? 0) * 1e3;
  let total = 0;
  for (let i = 0; i < f.data.length; i++) total += f.data[i]! * f.data[i]!;
  if (total === 0) return 0;
  let inside = 0;
  for (let i = 0; i < q; i++) {
    if (!(values[i]! > tol)) break;
    const v = rightVectors![i]!;
    for (let r = 0; r < f.rows; r++) {
      let dot = 0;
      for (let j = 0; j < f.cols; j++) dot += f.data[r * f.cols + j]! * v[j]!;
      inside += dot * dot;
    }
  }
  return inside / total;
}

/**
 * A collapse report for one fused pair: effective rank of each modality before and after the
 * exchange (and of the fused tokens), the gains, the balance H, and each modality's share of
 * the fused energy when `fused` is given.
 *
 * @example
 * const r = collapseReport({ beforeA: rgb, afterA: rgbX, beforeB: depth, afterB: depthX, fused });
 * r.balance; r.shareA;
 */
export function collapseReport(
  tokens: { beforeA: MatrixInput; afterA: MatrixInput; beforeB: MatrixInput; afterB: MatrixInput; fused?: MatrixInput },
  options: { variant?: EffectiveRankVariant } = {},
): CollapseReport {
  const erank: CollapseReport['erank'] = {
    beforeA: effectiveRank(tokens.beforeA, options),
    afterA: effectiveRank(tokens.afterA, options),
    beforeB: effectiveRank(tokens.beforeB, options),
    afterB: effectiveRank(tokens.afterB, options),
  };
  const gainA = erank.afterA - erank.beforeA;
  const gainB = erank.afterB - erank.beforeB;
  const report: CollapseReport = { erank, gainA, gainB, balance: harmonicBalance(gainA, gainB) };
  if (tokens.fused !== undefined) {
    erank.fused = effectiveRank(tokens.fused, options);
    const a = explainedEnergy(tokens.fused, tokens.afterA);
    const b = explainedEnergy(tokens.fused, tokens.afterB);
    report.explainedA = a;
    report.explainedB = b;
    report.shareA = a + b > 0 ? a / (a + b) : 0;
    report.shareB = a + b > 0 ? b / (a + b) : 0;
  }
  return report;
}
