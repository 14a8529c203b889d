import * as tf from '@tensorflow/tfjs-core';
import { type AnticipationProtocol, type DecodedAnticipation, checkDurationShape, decodeBatch } from './decode.js';
import { ModelConfigError } from './errors.js';
import type { R3DInputs, R3DModel } from './r3d.js';

/** Options of `R3DModel.predict`. */
export interface PredictOptions {
  /**
   * Frames of the future window to lay the transcript out over (`frames` of each prediction);
   * default 0, which leaves `frames` empty. The released evaluation uses int(0.5 * video length).
   */
  futureFrames?: number;
  /** `'released'` (default) or `'corrected'`, as `decodeAnticipation`. */
  protocol?: AnticipationProtocol;
}

/**
 * One evaluation-mode forward pass decoded into each item's anticipated transcript, as plain
 * numbers: the forward pass runs first, then the action logits, their softmax and the durations
 * are read back with `data()` (asynchronous, so a WebGL context never stalls on it), then
 * `decodeAnticipation`'s decoding lays them out. Every tensor of the pass is freed.
 *
 * @example
 * const [item] = await predictAnticipation(model, { rgb, partner }, { futureFrames: 150 });
 * item.actions; item.durations; // [3, 7], [0.25, 0.75]
 */
export async function predictAnticipation(model: R3DModel, inputs: R3DInputs, options: PredictOptions = {}): Promise<DecodedAnticipation[]> {
  const futureFrames = options.futureFrames ?? 0;
  if (!Number.isInteger(futureFrames) || futureFrames < 0) throw new ModelConfigError('futureFrames', 'an integer >= 0', futureFrames);
  const out = model.apply(inputs);
  const probs = tf.tidy(() => tf.softmax(out.action, -1));
  try {
    checkDurationShape(out.action, out.duration);
    const [logits, p, dur] = await Promise.all([out.action.data(), probs.data(), out.duration.data()]);
    return decodeBatch(logits as Float32Array, p as Float32Array, dur as Float32Array, out.action.shape, {
      noneIndex: model.config.noneIndex,
      futureFrames,
      ...(options.protocol ? { protocol: options.protocol } : {}),
    });
  } finally {
    tf.dispose([out, probs]);
  }
}
