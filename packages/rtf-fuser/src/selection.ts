import * as tf from '@tensorflow/tfjs-core';
import { FuserError, shapeText } from './errors.js';

/**
 * How the channels a modality gives away are scored (lowest score = least informative):
 * `variance` over the sample's valid frames (the authors' demo tensors), `svd-energy` (the energy a
 * channel carries in the top-q right singular vectors of the centred token matrix), `bn-gamma`
 * (|gamma| of the modality's BatchNorm, the released code; one choice for every sample).
 */
export type ChannelSelection = 'variance' | 'svd-energy' | 'bn-gamma';

export const CHANNEL_SELECTIONS: readonly ChannelSelection[] = ['variance', 'svd-energy', 'bn-gamma'];

/** The q used by `svd-energy` when none is given. */
export const DEFAULT_TOP_Q = 8;

/**
 * The number of channels each modality exchanges, k = floor(ratio * C), computed exactly as the
 * authors' `int(C * ratio)` (so 0.3 of 128 is 38 and 0.1 of 128 is 12).
 *
 * @example
 * exchangedChannelCount(0.3, 128); // 38
 */
export function exchangedChannelCount(ratio: number, channels: number): number {
  if (!(Number.isFinite(ratio) && ratio >= 0 && ratio <= 1)) {
    throw new FuserError({ field: 'ratio', expected: 'a number in [0, 1]', found: String(ratio) });
  }
  return Math.floor(channels * ratio);
}

/**
 * The k channels with the lowest scores, in ascending score order; equal scores go to the lower
 * channel index first (a deterministic rule: the authors' `torch.topk(largest=False)` leaves ties
 * unspecified). NaN scores count as +Infinity, so a channel without a score is never preferred.
 *
 * @example
 * lowestChannels([0.5, 0.1, 0.1, 0.9], 2); // Int32Array [1, 2]
 */
export function lowestChannels(scores: ArrayLike<number>, k: number): Int32Array {
  const n = scores.length;
  if (!(Number.isInteger(k) && k >= 0 && k <= n)) {
    throw new FuserError({ field: 'k', expected: `an integer in [0, ${n}]`, found: String(k) });
  }
  const key = (i: number): number => {
    const s = scores[i]!;
    return Number.isNaN(s) ? Infinity : s;
  };
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => key(a) - key(b) || a - b);
  return Int32Array.from(order.slice(0, k));
}

/** Per-sample frame validity: a (B, T) mask (tensor, nested array or flat array) or B lengths. */
export interface FrameValidity {
  /** B lengths: frames t < lengths[b] of sample b are valid. */
  lengths?: ArrayLike<number>;
  /** (B, T) mask, nonzero = valid frame. Wins over `lengths`. */
  mask?: tf.Tensor | ArrayLike<ArrayLike<number>> | ArrayLike<number>;
}

/**
 * Resolves `lengths` / `mask` to a flat (B*T) 0/1 validity array; every frame is valid when
 * neither is given. Shape problems raise a FuserError naming the option.
 */
export function frameValidity(batch: number, frames: number, v: FrameValidity = {}): Uint8Array {
  const out = new Uint8Array(batch * frames);
  if (v.mask != null) {
    let flat: ArrayLike<number>;
    if (v.mask instanceof tf.Tensor) {
      if (v.mask.size !== batch * frames) {
        throw new FuserError({ field: 'mask', expected: `shape ${shapeText([batch, frames])}`, found: shapeText(v.mask.shape) });
      }
      flat = v.mask.dataSync() as ArrayLike<number>;
    } else if (v.mask.length > 0 && typeof v.mask[0] === 'object') {
      const rows = v.mask as ArrayLike<ArrayLike<number>>;
      if (rows.length !== batch || Array.from(rows).some((r) => r.length !== frames)) {
        throw new FuserError({ field: 'mask', expected: `${batch} rows of ${frames} frames`, found: `${rows.length} rows` });
      }
      flat = Array.from(rows).flatMap((r) => Array.from(r));
    } else {
      flat = v.mask as ArrayLike<number>;
      if (flat.length !== batch * frames) {
        throw new FuserError({ field: 'mask', expected: `${batch * frames} values (B*T)`, found: `${flat.length}` });
      }
    }
    for (let i = 0; i < out.length; i++) out[i] = flat[i] ? 1 : 0;
    return out;
  }
  if (v.lengths != null) {
    if (v.lengths.length !== batch) {
      throw new FuserError({ field: 'lengths', expected: `${batch} lengths (one per sample)`, found: `${v.lengths.length}` });
    }
    for (let b = 0; b < batch; b++) {
      const len = v.lengths[b]!;
      if (!(Number.isInteger(len) && len >= 0 && len <= frames)) {
        throw new FuserError({ field: `lengths[${b}]`, expected: `an integer in [0, ${frames}]`, found: String(len) });
      }
      out.fill(1, b * frames, b * frames + len);
    }
    return out;
  }
  return out.fill(1);
}

/**
 * Per-sample channel scores of token data (B, T, C) flattened row-major, over the valid frames
 * only (padding never moves a score). `variance` is the biased variance in Float64; `svd-energy`
 * is S_d = sum_{i<=q} s_i^2 v_{i,d}^2 of the centred valid rows (equal to n x variance when q is
 * full). A sample with no valid frame scores 0 everywhere.
 *
 * @example
 * const scores = sampleChannelScores(x.dataSync(), [2, 24, 128], 'variance', frameValidity(2, 24, { lengths: [24, 20] }));
 */
export function sampleChannelScores(
  data: ArrayLike<number>,
  shape: readonly [number, number, number],
  method: 'variance' | 'svd-energy',
  valid: Uint8Array,
  topQ: number = DEFAULT_TOP_Q,
): Float64Array[] {
  const [B, T, C] = shape;
  const scores: Float64Array[] = [];
  for (let b = 0; b < B; b++) {
    const rows: number[] = [];
    for (let t = 0; t < T; t++) if (valid[b * T + t]) rows.push(t);
    const n = rows.length;
    const centred = new Float64Array(n * C);
    const mean = new Float64Array(C);
    for (const t of rows) {
      const base = (b * T + t) * C;
      for (let c = 0; c < C; c++) mean[c]! += data[base + c]!;
    }
    if (n > 0) for (let c = 0; c < C; c++) mean[c]! /= n;
    rows.forEach((t, r) => {
      const base = (b * T + t) * C;
      for (let c = 0; c < C; c++) centred[r * C + c] = data[base + c]! - mean[c]!;
    });
    scores.push(method === 'variance' ? columnVariance(centred, n, C) : svdEnergy(centred, n, C, topQ));
  }
  return scores;
}

function columnVariance(z: Float64Array, n: number, C: number): Float64Array {
  const out = new Float64Array(C);
  if (n === 0) return out;
  for (let r = 0; r < n; r++) for (let c = 0; c < C; c++) out[c]! += z[r * C + c]! * z[r * C + c]!;
  for (let c = 0; c < C; c++) out[c]! /= n;
  return out;
}

/**
 * S_d = sum_{i<=q} s_i^2 v_{i,d}^2 from the eigen-decomposition of the smaller Gram matrix: with
 * Z Z^T = U S^2 U^T (n <= C), s_i v_i = Z^T u_i; with Z^T Z = V S^2 V^T (C < n) directly.
 */
function svdEnergy(z: Float64Array, n: number, C: number, topQ: number): Float64Array {
  const out = new Float64Array(C);
  if (n === 0) return out;
  const q = Math.max(0, Math.min(topQ, n, C));
  if (n <= C) {
    const gram = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += z[i * C + c]! * z[j * C + c]!;
        gram[i * n + j] = s;
        gram[j * n + i] = s;
      }
    }
    const { values, vectors } = symmetricEigen(gram, n);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[b]! - values[a]!);
    for (const i of order.slice(0, q)) {
      for (let c = 0; c < C; c++) {
        let p = 0; // (Z^T u_i)_c = s_i v_{i,c}
        for (let r = 0; r < n; r++) p += z[r * C + c]! * vectors[r * n + i]!;
        out[c]! += p * p;
      }
    }
    return out;
  }
  const gram = new Float64Array(C * C);
  for (let r = 0; r < n; r++) {
    for (let a = 0; a < C; a++) {
      const za = z[r * C + a]!;
      if (za === 0) continue;
      for (let b = a; b < C; b++) gram[a * C + b]! += za * z[r * C + b]!;
    }
  }
  for (let a = 0; a < C; a++) for (let b = 0; b < a; b++) gram[a * C + b] = gram[b * C + a]!;
  const { values, vectors } = symmetricEigen(gram, C);
  const order = Array.from({ length: C }, (_, i) => i).sort((a, b) => values[b]! - values[a]!);
  for (const i of order.slice(0, q)) {
    const lambda = Math.max(values[i]!, 0);
    for (let c = 0; c < C; c++) out[c]! += lambda * vectors[c * C + i]! * vectors[c * C + i]!;
  }
  return out;
}

/**
 * Cyclic Jacobi eigen-decomposition of a symmetric n x n matrix (row-major, Float64): returns the
 * eigenvalues and the eigenvectors as the columns of `vectors`. Jacobi is slow for large n but
 * accurate for the small, often rank-deficient Gram matrices of a few frames that selection sees.
 */
export function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i]! * a[i]!;
  const tol = 1e-30 * Math.max(total, 1e-300);
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! * a[p * n + q]!;
    if (off <= tol) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

/** Options of `selectChannels`. */
export interface SelectChannelsOptions extends FrameValidity {
  selection: ChannelSelection;
  /** Exchange ratio: k = floor(ratio * C). */
  ratio: number;
  /** For `svd-energy`: how many top singular vectors carry the energy (default 8). */
  topQ?: number;
  /** For `bn-gamma`: the modality's BatchNorm gamma (C); the same choice serves every sample. */
  gamma?: ArrayLike<number>;
}

/**
 * The channels one modality exchanges, per sample: the k = floor(ratio * C) lowest-scoring ones
 * (ascending score, ties to the lower index). A hard, gradient-free choice: it reads the tokens'
 * values on the CPU and returns plain index arrays.
 *
 * @example
 * const sel = selectChannels(x, { selection: 'variance', ratio: 0.3, lengths: [14, 3] }); // 2 x Int32Array(38)
 */
export function selectChannels(x: tf.Tensor, options: SelectChannelsOptions): Int32Array[] {
  if (x.rank !== 3) throw new FuserError({ field: 'tokens', expected: 'shape (B, T, C)', found: shapeText(x.shape) });
  const [B, T, C] = x.shape as [number, number, number];
  const k = exchangedChannelCount(options.ratio, C);
  if (options.selection === 'bn-gamma') {
    const gamma = options.gamma;
    if (gamma == null || gamma.length !== C) {
      throw new FuserError({ field: 'gamma', expected: `the BatchNorm gamma (${C} values) for bn-gamma selection`, found: gamma == null ? 'none' : `${gamma.length} values` });
    }
    const chosen = lowestChannels(Array.from(gamma, Math.abs), k);
    return Array.from({ length: B }, () => chosen.slice());
  }
  if (options.selection !== 'variance' && options.selection !== 'svd-energy') {
    throw new FuserError({ field: 'selection', expected: CHANNEL_SELECTIONS.join(' | '), found: String(options.selection) });
  }
  const valid = frameValidity(B, T, options);
  const scores = sampleChannelScores(x.dataSync() as Float32Array, [B, T, C], options.selection, valid, options.topQ);
  return scores.map((s) => lowestChannels(s, k));
}
