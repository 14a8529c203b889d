import * as tf from '@tensorflow/tfjs-core';
import { channelScores, lowestChannels as lowestOf } from '@r3d-ts/rank-metrics';
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
 * The plain-array twin of `lowestChannelIndices`, which the fusers run (same order, same ties).
 *
 * @example
 * lowestChannels([0.5, 0.1, 0.1, 0.9], 2); // Int32Array [1, 2]
 */
export function lowestChannels(scores: ArrayLike<number>, k: number): Int32Array {
  const n = scores.length;
  if (!(Number.isInteger(k) && k >= 0 && k <= n)) {
    throw new FuserError({ field: 'k', expected: `an integer in [0, ${n}]`, found: String(k) });
  }
  const finite = Float64Array.from(scores, (v) => (Number.isNaN(v) ? Infinity : v));
  return Int32Array.from(lowestOf(finite, k));
}

/** Per-sample frame validity: a (B, T) mask (tensor, nested array or flat array) or B lengths. */
export interface FrameValidity {
  /** B lengths: frames t < lengths[b] of sample b are valid. */
  lengths?: ArrayLike<number>;
  /** (B, T) mask, nonzero = valid frame. Wins over `lengths`. */
  mask?: tf.Tensor | ArrayLike<ArrayLike<number>> | ArrayLike<number>;
}

/**
 * Resolves `lengths` / `mask` to a flat (B*T) 0/1 validity array on the CPU (a mask tensor is read
 * back); every frame is valid when neither is given. Shape problems raise a FuserError naming the
 * option. The fusers use `frameMask` instead, which reads nothing back.
 *
 * @example
 * frameValidity(2, 3, { lengths: [3, 1] }); // Uint8Array [1, 1, 1, 1, 0, 0]
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
 * only (padding never moves a score), computed on the CPU by @r3d-ts/rank-metrics'
 * `channelScores` in Float64, with an exact eigen-decomposition: the reference that
 * `scoreChannels` (tensor ops, what the fusers run) is tested against. `variance` (biased, so a 1-frame sample scores 0 rather than failing; the order is the
 * same as torch.var's) or `svd-energy` with q = min(topQ, frames, C). A sample with no valid frame
 * scores 0 everywhere.
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
    if (n === 0) {
      scores.push(new Float64Array(C));
      continue;
    }
    const z = new Float64Array(n * C);
    rows.forEach((t, r) => {
      const base = (b * T + t) * C;
      for (let c = 0; c < C; c++) z[r * C + c] = data[base + c]!;
    });
    const m = { data: z, rows: n, cols: C };
    scores.push(
      method === 'variance'
        ? channelScores(m, { method: 'variance', unbiased: false })
        : channelScores(m, { method: 'svd-energy', topQ: Math.max(1, Math.min(topQ, n, C)) }),
    );
  }
  return scores;
}


/**
 * The (B, T) float32 0/1 frame mask of `lengths` / `mask` (1 = valid frame; all ones when neither
 * is given), built without reading any tensor back: a mask tensor is compared with 0 on the
 * backend, lengths and arrays are turned into a tensor. Shape problems raise a FuserError.
 *
 * @example
 * const m = frameMask(2, 3, { lengths: [3, 1] }); // [[1, 1, 1], [1, 0, 0]]
 */
export function frameMask(batch: number, frames: number, v: FrameValidity = {}): tf.Tensor2D {
  if (v.mask instanceof tf.Tensor) {
    const mask = v.mask;
    if (mask.size !== batch * frames) {
      throw new FuserError({ field: 'mask', expected: `shape ${shapeText([batch, frames])}`, found: shapeText(mask.shape) });
    }
    return tf.tidy(() => tf.cast(tf.notEqual(tf.reshape(mask, [batch, frames]), 0), 'float32')) as tf.Tensor2D;
  }
  return tf.tensor2d(Float32Array.from(frameValidity(batch, frames, v)), [batch, frames]);
}

/** Options of `scoreChannels`. */
export interface ScoreChannelsOptions extends FrameValidity {
  selection: ChannelSelection;
  /** For `svd-energy`: how many top singular vectors carry the energy (default 8). */
  topQ?: number;
  /** For `bn-gamma`: the modality's BatchNorm gamma (C); the same scores serve every sample. */
  gamma?: tf.Tensor | ArrayLike<number>;
}

// svd-energy's subspace iteration: steps with K^2 (each worth two steps of K: a near-equal 8th and
// 9th eigenvalue converges slowly, 0.89 per step of K in the DARai demo's hardest matrix), then
// steps with K itself, which restore the precision K^2 squares away in float32 (at 0.6-0.75 per
// step where the top eigenvalue is 1e3-1e4 times the 8th). With 30 + 16 steps the channels are
// the exact SVD's in all 612 DARai demo matrices on cpu, wasm and native-blas
// (bench/svd-energy-agreement.ts); 10 + 2 steps (before) missed 3 on cpu.
const SQUARED_STEPS = 30;
const PLAIN_STEPS = 16;
// Gram-Schmidt drops a column only when it is numerically nothing: after a K^2 step a column can
// be rounding noise that the following steps of K turn back into the right direction, and a larger
// floor (1e-5 before) dropped such a column for good, freezing its error (2e-4 of the largest score).
const SQUARED_FLOOR = 1e-20;
const PLAIN_FLOOR = 1e-12;

/**
 * Per-sample channel scores (B, C), float32, in tensor ops only (nothing is read back, so it runs
 * asynchronously and on every backend), over each sample's valid frames:
 * - `variance`: the biased variance over the valid frames (0 for a sample without one);
 * - `svd-energy`: S_d = sum over the top q = min(topQ, valid frames, C) right singular vectors of
 *   the centred valid frames of s_i^2 v_{i,d}^2, from the top eigenvectors of the smaller Gram
 *   matrix (T x T or C x C) found by 47 steps of subspace iteration with Gram-Schmidt. A sample
 *   whose centred frames have rank below q (at most q valid frames) scores its full energy,
 *   exactly as the SVD; elsewhere the scores agree with the exact Float64 ones
 *   (`sampleChannelScores`) to 3e-7 of the largest score in the median DARai demo token matrix and
 *   2e-4 in the worst (a near-equal 8th and 9th singular value converges slowly), and the chosen
 *   channels are the exact choice in all 612 DARai demo token matrices (cpu, wasm, native-blas);
 * - `bn-gamma`: |gamma|, the same for every sample.
 *
 * @example
 * const s = scoreChannels(x, { selection: 'variance', lengths: [24, 20] }); // (2, C)
 */
export function scoreChannels(x: tf.Tensor, options: ScoreChannelsOptions): tf.Tensor2D {
  if (x.rank !== 3) throw new FuserError({ field: 'tokens', expected: 'shape (B, T, C)', found: shapeText(x.shape) });
  const [B, T, C] = x.shape as [number, number, number];
  if (options.selection === 'bn-gamma') {
    const gamma = options.gamma;
    const size = gamma == null ? undefined : gamma instanceof tf.Tensor ? gamma.size : gamma.length;
    if (gamma == null || size !== C) {
      throw new FuserError({ field: 'gamma', expected: `the BatchNorm gamma (${C} values) for bn-gamma selection`, found: gamma == null ? 'none' : `${size} values` });
    }
    return tf.tidy(() => {
      const g = gamma instanceof tf.Tensor ? tf.cast(gamma, 'float32') : tf.tensor1d(Float32Array.from(gamma));
      return tf.broadcastTo(tf.reshape(tf.abs(g), [1, C]), [B, C]) as tf.Tensor2D;
    });
  }
  if (options.selection !== 'variance' && options.selection !== 'svd-energy') {
    throw new FuserError({ field: 'selection', expected: CHANNEL_SELECTIONS.join(' | '), found: String(options.selection) });
  }
  const topQ = options.topQ ?? DEFAULT_TOP_Q;
  if (!(Number.isInteger(topQ) && topQ >= 1)) throw new FuserError({ field: 'topQ', expected: 'a positive integer', found: String(topQ) });
  const valid = frameMask(B, T, options);
  try {
    return tf.tidy(() => {
      const inFrame = tf.broadcastTo(tf.reshape(tf.greater(valid, 0), [B, T, 1]), [B, T, C]);
      const n = tf.maximum(tf.sum(valid, 1, true), 1); // (B, 1): valid frames, at least 1
      // Shifted by the sample's first valid frame: a channel that is constant over the valid
      // frames (a dead ReLU unit, say) becomes exactly 0 and scores exactly 0, as in exact
      // arithmetic (a float32 mean of n equal values need not equal them), so such channels tie
      // and go by index as the Float64 scores do; elsewhere the shift only helps precision.
      // Padded frames are replaced (not multiplied) by 0, so whatever they hold never counts.
      const isFirst = tf.broadcastTo(tf.reshape(tf.cast(tf.oneHot(tf.argMax(valid, 1), T), 'bool'), [B, T, 1]), [B, T, C]);
      const first = tf.sum(tf.where(isFirst, x, tf.zerosLike(x)), 1); // (B, C): exact (one term)
      const shifted = tf.where(inFrame, tf.sub(x, tf.reshape(first, [B, 1, C])), tf.zerosLike(x));
      const mean = tf.div(tf.sum(shifted, 1), n); // (B, C)
      const centred = tf.where(inFrame, tf.sub(shifted, tf.reshape(mean, [B, 1, C])), tf.zerosLike(x)) as tf.Tensor3D;
      if (options.selection === 'variance') return tf.div(tf.sum(tf.square(centred), 1), n) as tf.Tensor2D;
      return topEnergy(centred, n, topQ);
    });
  } finally {
    valid.dispose();
  }
}

/** svd-energy of centred, zero-padded tokens (B, T, C) with n valid frames per sample (B, 1). */
function topEnergy(z: tf.Tensor3D, n: tf.Tensor, topQ: number): tf.Tensor2D {
  const [B, T, C] = z.shape;
  const q = Math.min(topQ, T, C);
  const full = tf.sum(tf.square(z), 1) as tf.Tensor2D; // every direction's energy: (B, C)
  // Eigenvectors of the smaller Gram matrix: left singular vectors (T x T) or right ones (C x C).
  const tokenSide = T <= C;
  const N = tokenSide ? T : C;
  if (q >= N) return full; // the top q directions are all of them
  const gram = (tokenSide ? tf.matMul(z, z, false, true) : tf.matMul(z, z, true, false)) as tf.Tensor3D;
  const squared = tf.matMul(gram, gram) as tf.Tensor3D;
  let v = gramSchmidt(tf.matMul(gram, tf.broadcastTo(startVectors(N, q), [B, N, q])) as tf.Tensor3D, 1e-6);
  for (let i = 0; i < SQUARED_STEPS; i++) v = gramSchmidt(tf.matMul(squared, v) as tf.Tensor3D, SQUARED_FLOOR);
  for (let i = 0; i < PLAIN_STEPS; i++) v = gramSchmidt(tf.matMul(gram, v) as tf.Tensor3D, PLAIN_FLOOR);
  // sum_i s_i^2 v_{i,d}^2: (Z^T u_i)_d^2 for left vectors u_i; (G v_i)_d v_{i,d} for right ones.
  const top = tokenSide ? tf.sum(tf.square(tf.matMul(z, v, true, false)), 2) : tf.sum(tf.mul(tf.matMul(gram, v), v), 2);
  // At most q valid frames: rank < q, so the top q directions hold all the energy (the exact SVD's answer).
  return tf.where(tf.broadcastTo(tf.lessEqual(n, q), [B, C]), full, top) as tf.Tensor2D;
}

/** A fixed pseudo-random (N, q) start for the subspace iteration (the same on every call and backend). */
function startVectors(N: number, q: number): tf.Tensor3D {
  const values = new Float32Array(N * q);
  let state = 12345;
  for (let i = 0; i < values.length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    values[i] = state / 2147483648 - 0.5;
  }
  return tf.tensor3d(values, [1, N, q]);
}

/**
 * Orthonormal columns spanning those of w (B, N, q), one column after the other (classical
 * Gram-Schmidt). A column whose remainder is below `relative` x the largest input column (no new
 * direction: rank deficiency) becomes 0, so rounding noise never poses as a direction.
 */
function gramSchmidt(w: tf.Tensor3D, relative: number): tf.Tensor3D {
  const [B, N, q] = w.shape;
  const floor = tf.mul(tf.max(tf.sqrt(tf.sum(tf.square(w), 1, true)), 2, true), relative); // (B, 1, 1)
  let basis: tf.Tensor3D | undefined;
  for (let j = 0; j < q; j++) {
    let col = tf.slice(w, [0, 0, j], [B, N, 1]) as tf.Tensor3D;
    if (basis) col = tf.sub(col, tf.matMul(basis, tf.matMul(basis, col, true, false))) as tf.Tensor3D;
    const norm = tf.sqrt(tf.sum(tf.square(col), 1, true));
    col = tf.mul(col, tf.div(tf.cast(tf.greater(norm, floor), 'float32'), tf.maximum(norm, 1e-30))) as tf.Tensor3D;
    basis = basis ? (tf.concat([basis, col], 2) as tf.Tensor3D) : col;
  }
  return basis!;
}

/**
 * The k lowest-scoring channels of each row of `scores` (B, C), as int32 indices (B, k) in
 * ascending score order; equal scores go to the lower channel index (`tf.topk` of the negated
 * scores keeps that rule on cpu, wasm and native-blas), NaN counts as +Infinity. Tensor ops only.
 *
 * @example
 * lowestChannelIndices(tf.tensor2d([[0.5, 0.1, 0.1, 0.9]]), 2); // [[1, 2]]
 */
export function lowestChannelIndices(scores: tf.Tensor, k: number): tf.Tensor2D {
  if (scores.rank !== 2) throw new FuserError({ field: 'scores', expected: 'shape (B, C)', found: shapeText(scores.shape) });
  const [B, C] = scores.shape as [number, number];
  if (!(Number.isInteger(k) && k >= 0 && k <= C)) throw new FuserError({ field: 'k', expected: `an integer in [0, ${C}]`, found: String(k) });
  if (k === 0) return tf.zeros([B, 0], 'int32') as tf.Tensor2D;
  return tf.tidy(() => {
    // NaN and +/-Infinity become the largest float: topk's comparisons stay exact, and finite ties
    // still go to the lower index.
    const big = tf.fill([B, C], LARGEST_FLOAT32);
    const finite = tf.where(tf.notEqual(scores, scores), big, tf.clipByValue(scores, -LARGEST_FLOAT32, LARGEST_FLOAT32));
    return tf.topk(tf.neg(finite), k, true).indices as tf.Tensor2D;
  });
}

const LARGEST_FLOAT32 = 3.4028234663852886e38;

/**
 * A (B, 1, C) float 0/1 tensor with ones at each sample's selected channels, from int32 indices
 * (B, k) (or plain index arrays, checked). Multiplying it in (rather than gathering / scattering
 * channels) keeps the blend's gradient exact and needs no gather gradient, which wasm lacks.
 *
 * @example
 * selectionMask(tf.tensor2d([[0, 2]], [1, 2], 'int32'), 4); // [[[1, 0, 1, 0]]]
 */
export function selectionMask(selected: tf.Tensor | ArrayLike<ArrayLike<number>>, channels: number): tf.Tensor3D {
  if (selected instanceof tf.Tensor) {
    if (selected.rank !== 2) throw new FuserError({ field: 'selected', expected: 'int32 indices (B, k)', found: shapeText(selected.shape) });
    const [B, k] = selected.shape as [number, number];
    if (k === 0) return tf.zeros([B, 1, channels]) as tf.Tensor3D;
    return tf.tidy(() => tf.reshape(tf.cast(tf.sum(tf.oneHot(tf.cast(selected, 'int32'), channels), 1), 'float32'), [B, 1, channels])) as tf.Tensor3D;
  }
  const B = selected.length;
  const m = new Float32Array(B * channels);
  for (let b = 0; b < B; b++) {
    const row = selected[b]!;
    for (let i = 0; i < row.length; i++) {
      const c = row[i]!;
      if (!(Number.isInteger(c) && c >= 0 && c < channels)) {
        throw new FuserError({ field: `selected[${b}][${i}]`, expected: `a channel index in [0, ${channels})`, found: String(c) });
      }
      m[b * channels + c] = 1;
    }
  }
  return tf.tensor3d(m, [B, 1, channels]);
}

/** Options of `selectChannels`. */
export interface SelectChannelsOptions extends ScoreChannelsOptions {
  /** Exchange ratio: k = floor(ratio * C). */
  ratio: number;
}

/** What `selectChannels` returns: both belong to the caller (`tf.dispose(choice)`). */
// a type, not an interface, so that it is a tf.TensorContainer
export type ChannelChoice = {
  /** (B, k) int32: per sample, the exchanged channels in ascending score order. */
  indices: tf.Tensor2D;
  /** (B, 1, C) float 0/1: ones at those channels (what the exchange multiplies in). */
  mask: tf.Tensor3D;
};

/**
 * The channels one modality exchanges, per sample: the k = floor(ratio * C) lowest-scoring ones
 * (`scoreChannels`, then `lowestChannelIndices`: ascending score, ties to the lower index). A
 * hard, gradient-free choice computed in tensor ops without any read-back, recorded on a gradient
 * tape as one node whose gradient is 0 (so `tf.grad` through a fuser never meets `TopK`, which
 * has no gradient). Read the indices with `await indices.array()` when you need them on the CPU.
 *
 * @example
 * const { indices, mask } = selectChannels(x, { selection: 'variance', ratio: 0.3, lengths: [14, 3] });
 * await indices.array(); // 2 rows of 38 channels
 */
export function selectChannels(x: tf.Tensor, options: SelectChannelsOptions): ChannelChoice {
  if (x.rank !== 3) throw new FuserError({ field: 'tokens', expected: 'shape (B, T, C)', found: shapeText(x.shape) });
  const C = x.shape[2]!;
  const k = exchangedChannelCount(options.ratio, C);
  const indices = gradientFree(x, () => lowestChannelIndices(scoreChannels(x, options), k));
  const mask = gradientFree(x, () => selectionMask(indices, C));
  return { indices, mask };
}

type CustomGradFn = Parameters<typeof tf.customGrad>[0];

/**
 * `f()`, computed as one tape node on `anchor` whose gradient is 0: the ops inside are not
 * recorded (tfjs has no stop-gradient; a custom gradient's forward pass is not taped).
 */
function gradientFree<T extends tf.Tensor>(anchor: tf.Tensor, f: () => T): T {
  const op = tf.customGrad(((a: tf.Tensor, _save: tf.GradSaveFunc) => ({
    value: tf.tidy(f),
    gradFunc: () => [tf.zerosLike(a)],
  })) as unknown as CustomGradFn);
  return op(anchor) as T;
}
