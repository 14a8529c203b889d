import { check } from './errors.js';
import { type MatrixInput, toMatrix64 } from './matrix.js';
import { spectrumOf } from './spectrum.js';

/** How informative each channel is; the rank-enhancing fuser exchanges the lowest-scoring ones. */
export type ChannelScoreMethod = 'variance' | 'svd-energy';

export interface ChannelScoreOptions {
  method: ChannelScoreMethod;
  /** svd-energy: how many top right singular vectors to sum over (default: all, min(T, C)). */
  topQ?: number;
  /** variance: divide by T - 1 (torch.var's default, used by the authors' demo) or by T. Default true. */
  unbiased?: boolean;
}

/**
 * Per-channel informativeness over the T tokens of one sample (METHOD.md §2):
 * - `variance`: the channel's variance over the frames;
 * - `svd-energy`: centre Z, then S_d = sum_{i<=q} s_i^2 v_{i,d}^2 over the top-q right singular
 *   vectors, the energy channel d carries in the dominant directions. With q = min(T, C) it
 *   equals (T - 1) x the unbiased variance.
 *
 * @example
 * channelScores(tokens, { method: 'variance' });            // Float64Array(C)
 * channelScores(tokens, { method: 'svd-energy', topQ: 8 });
 */
export function channelScores(input: MatrixInput, options: ChannelScoreOptions): Float64Array {
  const z = toMatrix64(input, 'channelScores');
  const { rows: t, cols: c, data } = z;
  const out = new Float64Array(c);
  const mean = new Float64Array(c);
  for (let r = 0; r < t; r++) for (let j = 0; j < c; j++) mean[j] = mean[j]! + data[r * c + j]!;
  for (let j = 0; j < c; j++) mean[j] = t > 0 ? mean[j]! / t : 0;
  if (options.method === 'variance') {
    const unbiased = options.unbiased ?? true;
    const denom = unbiased ? t - 1 : t;
    check(denom > 0, 'INVALID_INPUT', () => `channelScores: variance over ${t} token(s) needs at least ${unbiased ? 2 : 1}`);
    for (let r = 0; r < t; r++) {
      for (let j = 0; j < c; j++) {
        const d = data[r * c + j]! - mean[j]!;
        out[j] = out[j]! + d * d;
      }
    }
    for (let j = 0; j < c; j++) out[j] = out[j]! / denom;
    return out;
  }
  check(options.method === 'svd-energy', 'INVALID_INPUT', () => `channelScores: unknown method '${String(options.method)}'; expected 'variance' or 'svd-energy'`);
  const centred = new Float64Array(data.length);
  for (let r = 0; r < t; r++) for (let j = 0; j < c; j++) centred[r * c + j] = data[r * c + j]! - mean[j]!;
  const q = options.topQ ?? Math.min(t, c);
  const { values, rightVectors } = spectrumOf({ data: centred, rows: t, cols: c }, q);
  for (let i = 0; i < q; i++) {
    const s2 = values[i]! * values[i]!;
    const v = rightVectors![i]!;
    for (let j = 0; j < c; j++) out[j] = out[j]! + s2 * v[j]! * v[j]!;
  }
  return out;
}

/**
 * Indices of the k lowest-scoring channels, ascending by score, ties broken by the lower channel
 * index (a stable, reproducible choice). This is the hard, gradient-free selection of RTF.
 *
 * @example
 * lowestChannels(new Float64Array([3, 1, 2]), 2); // [1, 2]
 */
export function lowestChannels(scores: ArrayLike<number>, k: number): number[] {
  check(Number.isInteger(k) && k >= 0 && k <= scores.length, 'INVALID_INPUT', () => `lowestChannels: k must be an integer in [0, ${scores.length}], got ${k}`);
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[a]! - scores[b]! || a - b);
  return idx.slice(0, k);
}
