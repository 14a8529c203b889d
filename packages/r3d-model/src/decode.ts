import * as tf from '@tensorflow/tfjs-core';
import { ModelConfigError } from './errors.js';

/**
 * How MoC is scored. `'released'` (default): exactly as the authors' `predict` + `utils.eval_file`
 * (see the trainer README). `'corrected'`: the same window and arithmetic, but frames left over by
 * rounding keep the last action before NONE (not the last query's), a transcript that starts with
 * NONE predicts NONE, and UNDEFINED ground-truth frames are not scored.
 */
export type AnticipationProtocol = 'released' | 'corrected';

/** The anticipated transcript of one item and its frame-wise expansion. */
export interface DecodedAnticipation {
  /** argmax action per query, up to (not including) the first NONE. */
  actions: number[];
  /** Each kept action's share of the future window (sums to 1 when any action is kept). */
  durations: number[];
  /** Softmax probability of each kept action. */
  confidence: number[];
  /** One action label per future frame (`futureFrames` long). */
  frames: Int32Array;
}

export interface DecodeOptions {
  noneIndex: number;
  /** Frames of the future window to expand into (released: int(0.5 * video length)). */
  futureFrames: number;
  /** `'released'` (default) or `'corrected'`: how frames left over are filled (see `decodeFutureFrames`). */
  protocol?: AnticipationProtocol;
}

/** Options of `decodeFutureFrames`. */
export interface FutureFramesOptions extends DecodeOptions {
  numClasses: number;
  /** `'corrected'` only: the label of every frame when the first query is NONE (default `noneIndex`). */
  fallback?: number;
}

const f32 = Math.fround;

/**
 * One item's query predictions expanded into future frame labels, as the released `predict` of
 * olivesgatech/R3D (FUTR's) does it: argmax action per query (first maximum); durations exp'd,
 * zeroed from the first NONE query on (all of them when query 0 is NONE), L1-normalised
 * (`x / max(sum |x|, 1e-12)`), all in float32 like the released tensors; then *every* query is laid
 * out in order, `int(0.5 + futureFrames * share)` frames each (float32, truncated), cut at the
 * window's end; and the **last query's** action (NONE or not) fills from its start to the end of
 * the window. So frames left over by rounding take the last query's action, and a transcript that
 * starts with NONE (all shares 0) gives the last query's action everywhere.
 *
 * `protocol: 'corrected'` changes only what the released behaviour gets wrong: frames left over
 * keep the last action before NONE, and a transcript that starts with NONE gives `fallback` (NONE,
 * which never matches a true frame). Non-finite durations give zero-length segments.
 *
 * @example
 * // 2 queries, 3 classes (NONE = 2): action 0 for 1/4 and action 1 for 3/4 of 8 frames
 * decodeFutureFrames([9, 0, 0, 0, 9, 0], [Math.log(1), Math.log(3)], { numClasses: 3, noneIndex: 2, futureFrames: 8 });
 * // -> Int32Array [0, 0, 1, 1, 1, 1, 1, 1]
 */
export function decodeFutureFrames(actionLogits: ArrayLike<number>, durations: ArrayLike<number>, options: FutureFramesOptions): Int32Array {
  return layOut(actionLogits, durations, options).frames;
}

function layOut(actionLogits: ArrayLike<number>, durations: ArrayLike<number>, options: FutureFramesOptions): { actions: number[]; kept: number; shares: number[]; frames: Int32Array } {
  const { numClasses: n, noneIndex: none, futureFrames: window } = options;
  const protocol = options.protocol ?? 'released';
  const q = durations.length;
  if (actionLogits.length !== q * n) throw new ModelConfigError('actionLogits', `${q} queries x ${n} classes = ${q * n} values`, actionLogits.length);
  if (!Number.isInteger(window) || window < 0) throw new ModelConfigError('futureFrames', 'an integer >= 0', window);
  if (protocol !== 'released' && protocol !== 'corrected') throw new ModelConfigError('protocol', "'released' or 'corrected'", protocol);
  const actions: number[] = [];
  for (let j = 0; j < q; j++) {
    let best = 0;
    for (let c = 1; c < n; c++) if (actionLogits[j * n + c]! > actionLogits[j * n + best]!) best = c;
    actions.push(best);
  }
  const first = actions.indexOf(none);
  const kept = first < 0 ? q : first;
  // normalize_duration(output_dur, none_mask): exp(d) * mask, then F.normalize(p=1, dim=-1)
  const weights = Array.from({ length: q }, (_, j) => (j < kept ? f32(Math.exp(f32(durations[j]!))) : 0));
  let sum = 0;
  for (const w of weights) sum = f32(sum + Math.abs(w));
  const denom = Math.max(sum, f32(1e-12));
  const shares = weights.map((w) => f32(w / denom));
  // pred_len = (0.5 + future_len * output_dur).long(): float32 multiply and add, then truncation
  const lengths = shares.map((s) => {
    const len = Math.trunc(f32(f32(window * s) + 0.5));
    return Number.isFinite(len) && len > 0 ? len : 0;
  });
  const frames = new Int32Array(window);
  const fill = (label: number, from: number, to: number) => frames.fill(label, Math.min(from, window), Math.min(to, window));
  let start = 0;
  if (protocol === 'released') {
    for (let j = 0; j < q; j++) {
      fill(actions[j]!, start, start + lengths[j]!);
      if (j === q - 1) fill(actions[j]!, start, window);
      start += lengths[j]!;
    }
  } else if (kept === 0) {
    frames.fill(options.fallback ?? none);
  } else {
    for (let j = 0; j < kept; j++) {
      fill(actions[j]!, start, start + lengths[j]!);
      start += lengths[j]!;
    }
    fill(actions[kept - 1]!, start, window);
  }
  return { actions, kept, shares, frames };
}

/**
 * The released inference decoding of a batch (see `decodeFutureFrames` for the frame layout and
 * the `protocol` option): the transcript is the argmax action of each query up to the first NONE,
 * with each kept action's share of the window and softmax confidence.
 *
 * @example
 * const [item] = decodeAnticipation(out.action, out.duration, { noneIndex: 11, futureFrames: 150 });
 * item.frames // Int32Array(150) of labels
 */
export function decodeAnticipation(action: tf.Tensor3D, duration: tf.Tensor2D, options: DecodeOptions): DecodedAnticipation[] {
  checkDurationShape(action, duration);
  const probs = tf.tidy(() => tf.softmax(action, -1).dataSync() as Float32Array);
  return decodeBatch(action.dataSync() as Float32Array, probs, duration.dataSync() as Float32Array, action.shape, options);
}

/** `duration` must have the (B, Q) of `action` (B, Q, N). */
export function checkDurationShape(action: tf.Tensor3D, duration: tf.Tensor2D): void {
  const [b, q] = action.shape;
  if (duration.shape[0] !== b || duration.shape[1] !== q) throw new ModelConfigError('duration', `shape [${b}, ${q}]`, `[${duration.shape.join(', ')}]`);
}

/**
 * `decodeAnticipation` on values already read back: logits and their softmax (B*Q*N), durations
 * (B*Q). Shared by the synchronous decoder and `R3DModel.predict`, which reads back with `data()`.
 */
export function decodeBatch(logits: Float32Array, probs: Float32Array, dur: Float32Array, shape: readonly [number, number, number], options: DecodeOptions): DecodedAnticipation[] {
  const [b, q, n] = shape;
  const out: DecodedAnticipation[] = [];
  for (let i = 0; i < b; i++) {
    const item = layOut(logits.subarray(i * q * n, (i + 1) * q * n), dur.subarray(i * q, (i + 1) * q), { ...options, numClasses: n });
    const actions = item.actions.slice(0, item.kept);
    out.push({
      actions,
      durations: item.shares.slice(0, item.kept),
      confidence: actions.map((a, j) => probs[(i * q + j) * n + a]!),
      frames: item.frames,
    });
  }
  return out;
}
