import { check } from './errors.js';
import { type Matrix64, type MatrixInput, type TensorLike, assertFinite, toMatrix64 } from './matrix.js';
import { spectrumOf } from './spectrum.js';

/**
 * The named forms of effective rank (METHOD.md §1). They differ in what is decomposed and in the
 * epsilons, so they are never mixed silently:
 * - `authors`: the paper's code. Singular values s of Z (not centred); drop s <= 1e-12;
 *   p = s / (sum(s) + 1e-7); exp(-sum p log(p + 1e-7)). Range [1, min(T, C)].
 * - `centred`: the same formula on Z minus its column (channel) means; at most min(T - 1, C).
 * - `covariance`: p from the squared singular values (eigenvalues of the covariance of the
 *   centred tokens, as reptrix computes it), no epsilons; exp of the entropy.
 * - `rankme`: RankMe (Garrido et al. 2023): p = s / sum(s) + 1e-7, exp(-sum p log p).
 */
export type EffectiveRankVariant = 'authors' | 'centred' | 'covariance' | 'rankme';

export interface EffectiveRankOptions {
  /** Which form (default `authors`). */
  variant?: EffectiveRankVariant;
}

/** Effective rank of a descending singular spectrum under one variant. */
export function effectiveRankOfSpectrum(s: ArrayLike<number>, variant: EffectiveRankVariant = 'authors'): number {
  let entropy = 0;
  if (variant === 'authors' || variant === 'centred') {
    let total = 0;
    for (let i = 0; i < s.length; i++) if (s[i]! > 1e-12) total += s[i]!;
    const denom = total + 1e-7;
    for (let i = 0; i < s.length; i++) {
      if (!(s[i]! > 1e-12)) continue;
      const p = s[i]! / denom;
      entropy -= p * Math.log(p + 1e-7);
    }
  } else if (variant === 'rankme') {
    let total = 0;
    for (let i = 0; i < s.length; i++) total += s[i]!;
    if (total === 0) return 1;
    for (let i = 0; i < s.length; i++) {
      const p = s[i]! / total + 1e-7;
      entropy -= p * Math.log(p);
    }
  } else {
    let total = 0;
    for (let i = 0; i < s.length; i++) total += s[i]! * s[i]!;
    if (total === 0) return 1;
    for (let i = 0; i < s.length; i++) {
      const p = (s[i]! * s[i]!) / total;
      if (p > 0) entropy -= p * Math.log(p);
    }
  }
  return Math.exp(entropy);
}

function centre(z: Matrix64): Matrix64 {
  const { rows, cols, data } = z;
  const out = new Float64Array(data);
  if (rows === 0) return { rows, cols, data: out };
  for (let j = 0; j < cols; j++) {
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += data[r * cols + j]!;
    mean /= rows;
    for (let r = 0; r < rows; r++) out[r * cols + j] = out[r * cols + j]! - mean;
  }
  return { rows, cols, data: out };
}

function effectiveRankOf(z: Matrix64, variant: EffectiveRankVariant): number {
  const centred = variant === 'centred' || variant === 'covariance';
  return effectiveRankOfSpectrum(spectrumOf(centred ? centre(z) : z).values, variant);
}

const VARIANTS: readonly EffectiveRankVariant[] = ['authors', 'centred', 'covariance', 'rankme'];

function variantOf(options: EffectiveRankOptions): EffectiveRankVariant {
  const v = options.variant ?? 'authors';
  check(VARIANTS.includes(v), 'INVALID_INPUT', () => `effectiveRank: unknown variant '${String(v)}'; expected one of ${VARIANTS.join(', ')}`);
  return v;
}

/**
 * Effective rank of a T x C token matrix: how many directions its energy really spreads over,
 * from 1 (rank one) to min(T, C) (flat spectrum). Defaults to the paper's own form (`authors`).
 * The zero matrix has effective rank 1 in every variant (an empty or all-zero spectrum has zero
 * entropy); a 1 x 1 matrix has effective rank 1 (to 1e-7 under `authors`).
 *
 * @example
 * effectiveRank([[1, 0], [0, 1]]);                          // ~2
 * effectiveRank(tokens, { variant: 'centred' });            // tokens: a (T, C) tf.Tensor
 */
export function effectiveRank(input: MatrixInput, options: EffectiveRankOptions = {}): number {
  return effectiveRankOf(toMatrix64(input), variantOf(options));
}

/** A batch of token matrices (B, T, C), row-major, with optional valid lengths per sample. */
export interface TokenBatch {
  data: ArrayLike<number>;
  /** [B, T, C] */
  shape: readonly [number, number, number] | readonly number[];
}

/**
 * Effective rank of every sample of a (B, T, C) batch, using only each sample's first
 * `lengths[b]` tokens (padded frames are ignored). Accepts a 3-D tensor or raw data + shape.
 *
 * @example
 * batchEffectiveRank(tokens3d, { lengths: [100, 64] }); // Float64Array [erank0, erank1]
 */
export function batchEffectiveRank(
  input: TokenBatch | TensorLike,
  options: EffectiveRankOptions & { lengths?: ArrayLike<number> } = {},
): Float64Array {
  const variant = variantOf(options);
  const shape = input.shape;
  check(shape.length === 3, 'SHAPE_MISMATCH', () => `batchEffectiveRank: expected shape [B, T, C], got [${shape.join(', ')}]`);
  const [b, t, c] = shape as [number, number, number];
  const data = 'dataSync' in input && typeof input.dataSync === 'function' ? input.dataSync() : (input as TokenBatch).data;
  check(data.length === b * t * c, 'SHAPE_MISMATCH', () => `batchEffectiveRank: shape [${b}, ${t}, ${c}] needs ${b * t * c} values, data has ${data.length}`);
  const lengths = options.lengths;
  if (lengths) check(lengths.length === b, 'SHAPE_MISMATCH', () => `batchEffectiveRank: lengths has ${lengths.length} entries for a batch of ${b}`);
  const out = new Float64Array(b);
  for (let i = 0; i < b; i++) {
    const len = lengths ? lengths[i]! : t;
    check(Number.isInteger(len) && len >= 0 && len <= t, 'INVALID_INPUT', () => `batchEffectiveRank: lengths[${i}] = ${len} is outside [0, ${t}]`);
    // a plain loop: Float64Array.from with a callback took a third of the trainer's rank monitor
    const slice = new Float64Array(len * c);
    for (let k = 0, at = i * t * c; k < slice.length; k++) slice[k] = data[at + k]!;
    assertFinite(slice, len, c, `batchEffectiveRank sample ${i}`);
    out[i] = effectiveRankOf({ data: slice, rows: len, cols: c }, variant);
  }
  return out;
}

/**
 * Stable rank sum(s^2) / max(s)^2: a smooth lower bound of the rank, insensitive to small
 * singular values. The zero matrix has stable rank 0.
 *
 * @example
 * stableRank([[1, 0], [0, 1]]); // 2
 */
export function stableRank(input: MatrixInput): number {
  const s = spectrumOf(toMatrix64(input)).values;
  if (s.length === 0 || s[0] === 0) return 0;
  let total = 0;
  for (const v of s) total += v * v;
  return total / (s[0]! * s[0]!);
}
