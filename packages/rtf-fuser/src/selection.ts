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
 * only (padding never moves a score), computed by @r3d-ts/rank-metrics' `channelScores` in
 * Float64: `variance` (biased, so a 1-frame sample scores 0 rather than failing; the order is the
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
