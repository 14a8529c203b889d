import * as tf from '@tensorflow/tfjs-core';
import { ModelConfigError } from './errors.js';

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
  /** Frames of the future window to expand into (e.g. floor(0.5 * video length)). */
  futureFrames: number;
}

/**
 * The released inference decoding: softmax the action logits and take each query's argmax,
 * exp the durations, zero every query from the first NONE on, L1-normalise, and expand the
 * segments in order over the future window (each round(share * frames) long; rounding leftovers
 * take the last kept action, or NONE when no action was kept).
 *
 * @example
 * const [item] = decodeAnticipation(out.action, out.duration, { noneIndex: 11, futureFrames: 150 });
 * item.frames // Int32Array(150) of labels
 */
export function decodeAnticipation(action: tf.Tensor3D, duration: tf.Tensor2D, options: DecodeOptions): DecodedAnticipation[] {
  const [b, q, n] = action.shape;
  if (duration.shape[0] !== b || duration.shape[1] !== q) throw new ModelConfigError('duration', `shape [${b}, ${q}]`, `[${duration.shape.join(', ')}]`);
  if (!Number.isInteger(options.futureFrames) || options.futureFrames < 0) throw new ModelConfigError('futureFrames', 'an integer >= 0', options.futureFrames);
  const probs = tf.tidy(() => tf.softmax(action, -1).dataSync() as Float32Array);
  const dur = duration.dataSync() as Float32Array;
  const out: DecodedAnticipation[] = [];
  for (let i = 0; i < b; i++) {
    const actions: number[] = [];
    const confidence: number[] = [];
    const raw: number[] = [];
    for (let j = 0; j < q; j++) {
      let best = 0;
      for (let c = 1; c < n; c++) if (probs[(i * q + j) * n + c]! > probs[(i * q + j) * n + best]!) best = c;
      if (best === options.noneIndex) break;
      actions.push(best);
      confidence.push(probs[(i * q + j) * n + best]!);
      raw.push(Math.exp(dur[i * q + j]!));
    }
    const sum = raw.reduce((a, v) => a + Math.abs(v), 0);
    const durations = raw.map((v) => v / Math.max(sum, 1e-12));
    const frames = new Int32Array(options.futureFrames).fill(actions.length > 0 ? actions[actions.length - 1]! : options.noneIndex);
    let start = 0;
    actions.forEach((a, k) => {
      const len = Math.floor(0.5 + options.futureFrames * durations[k]!);
      frames.fill(a, Math.min(start, frames.length), Math.min(start + len, frames.length));
      start += len;
    });
    out.push({ actions, durations, confidence, frames });
  }
  return out;
}
