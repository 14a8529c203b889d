import * as tf from '@tensorflow/tfjs-core';
import { FuserError, shapeText } from '../errors.js';
import { type FuserApplyOptions, type FuserName, type FuserOutput, checkStreams } from '../fuser.js';
import { WeightlessFuser } from './base.js';

/**
 * Averages per-modality predictions element-wise (optionally weighted): late fusion's last step.
 * Pass what should be averaged: probabilities (softmax outputs) for classes, values for regressions.
 *
 * @example
 * const probs = lateFusion([tf.softmax(logitsRgb), tf.softmax(logitsDepth)]);
 */
export function lateFusion(predictions: readonly tf.Tensor[], weights?: readonly number[]): tf.Tensor {
  if (predictions.length === 0) throw new FuserError({ field: 'predictions', expected: 'at least one prediction', found: 'none' });
  const shape = predictions[0]!.shape;
  predictions.forEach((p, i) => {
    if (p.shape.length !== shape.length || p.shape.some((d, j) => d !== shape[j])) {
      throw new FuserError({ field: `predictions[${i}]`, expected: `shape ${shapeText(shape)}`, found: shapeText(p.shape) });
    }
  });
  const w = weights ?? predictions.map(() => 1 / predictions.length);
  if (w.length !== predictions.length) {
    throw new FuserError({ field: 'weights', expected: `${predictions.length} weights`, found: `${w.length}` });
  }
  return tf.tidy(() => tf.addN(predictions.map((p, i) => tf.mul(p, w[i]!))));
}

/**
 * Late fusion as a `Fuser`: no token mixing. `apply` returns `fused` = the two streams stacked
 * along the batch, (2B, T, C): items 0..B-1 are RGB, B..2B-1 the partner. A model runs its
 * temporal model and heads on that doubled batch (repeating per-item masks and targets with
 * `repeatBatch`), then calls `combine` on each prediction to average the two halves back to B
 * items. `batchFactor` = 2 tells a model this fuser needs that treatment.
 *
 * @example
 * const late = new LateFusion();
 * const { fused } = late.apply(rgb, depth);        // (2B, T, C)
 * const probs = late.combine(tf.softmax(head(fused)));   // (B, ...)
 */
export class LateFusion extends WeightlessFuser {
  readonly name: FuserName = 'late';
  readonly batchFactor = 2;
  protected readonly description = 'late fusion';

  constructor(options: { channels?: number } = {}) {
    super(options.channels ?? 128);
  }

  apply(x: tf.Tensor3D, y: tf.Tensor3D, options: FuserApplyOptions = {}): FuserOutput {
    checkStreams(x, y, this.channels);
    const fused = tf.concat([x, y], 0);
    return options.pair ? { fused, pair: [tf.clone(x), tf.clone(y)] } : { fused };
  }

  /** Averages the RGB half and the partner half of a (2B, ...) prediction into (B, ...). */
  combine(prediction: tf.Tensor, weights?: readonly [number, number]): tf.Tensor {
    const n = prediction.shape[0]!;
    if (n % 2 !== 0) throw new FuserError({ field: 'prediction', expected: 'a leading axis of 2B (RGB half, partner half)', found: shapeText(prediction.shape) });
    return tf.tidy(() => {
      const [a, b] = tf.split(prediction, 2, 0);
      return lateFusion([a!, b!], weights);
    });
  }

  /** Repeats a per-item tensor (B, ...) to (2B, ...) to line up with `fused`. */
  repeatBatch(t: tf.Tensor): tf.Tensor {
    return tf.concat([t, t], 0);
  }
}
