import * as tf from '@tensorflow/tfjs-core';
import { ModelConfigError } from './errors.js';

/** Targets of one batch; pad (and ignored classes) mark what does not count. */
export interface R3DTargets {
  /** (B, T) observed frame labels, pad after each item's length (segmentation target). */
  labels: ArrayLike<number> | tf.Tensor;
  /** (B, Q) future actions: the transcript, NONE, then pad. */
  action: ArrayLike<number> | tf.Tensor;
  /** (B, Q) each future segment's share of the window; pad on the NONE slot and after. */
  duration: ArrayLike<number> | tf.Tensor;
}

export interface LossOptions {
  padIndex: number;
  /** Classes ignored like padding (default [47, -1]: the released UNDEFINED class, and -1, UNDEFINED in @r3d-ts/datasets). */
  ignoreIndices?: number[];
  /**
   * `'all'` (released): ignored frames and queries count 0 but stay in the mean's denominator.
   * `'valid'`: the mean over counted frames/queries only (the usual `ignore_index` mean).
   */
  denominator?: 'all' | 'valid';
  /** Weight of the action loss for an item whose first future action differs from its last observed one (10). */
  transitionWeight?: number;
  /** Term weights (all 1 as released). */
  weights?: { segmentation?: number; action?: number; duration?: number };
}

/** The loss terms (scalars; the caller disposes them) and the transition weight per item. */
export interface R3DLoss {
  segmentation: tf.Scalar;
  action: tf.Scalar;
  duration: tf.Scalar;
  total: tf.Scalar;
  itemWeights: number[];
}

function hostValues(x: ArrayLike<number> | tf.Tensor, field: string, size: number): Float32Array {
  const data = x instanceof tf.Tensor ? (x.dataSync() as ArrayLike<number>) : x;
  if (data.length !== size) throw new ModelConfigError(field, `${size} values`, data.length);
  return Float32Array.from(data);
}

// Integer targets with padding/ignored positions replaced by class 0 and a 0/1 weight beside them.
function maskedTargets(values: Float32Array, classes: number, ignored: Set<number>, field: string): { index: Int32Array; keep: Float32Array } {
  const index = new Int32Array(values.length);
  const keep = new Float32Array(values.length);
  values.forEach((v, i) => {
    if (ignored.has(v)) return;
    if (!Number.isInteger(v) || v < 0 || v >= classes) throw new ModelConfigError(`${field}[${i}]`, `a class index in [0, ${classes}) or an ignored index (${[...ignored].join(', ')})`, v);
    index[i] = v;
    keep[i] = 1;
  });
  return { index, keep };
}

function crossEntropySum(logits: tf.Tensor, index: Int32Array, weight: Float32Array, classes: number): tf.Scalar {
  const flat = tf.reshape(logits, [-1, classes]);
  const picked = tf.sum(tf.mul(tf.logSoftmax(flat), tf.oneHot(tf.tensor1d(index, 'int32'), classes)), 1);
  return tf.neg(tf.sum(tf.mul(picked, tf.tensor1d(weight)))) as tf.Scalar;
}

/**
 * The released training loss, term by term: segmentation cross-entropy over all observed
 * frames, transition-weighted (x10) cross-entropy over the queries' actions, and the MSE between
 * the L1-normalised exp(durations) and the true shares over valid queries. Padding and ignored
 * classes count 0; with `denominator: 'all'` (released) they stay in the mean's denominator.
 *
 * @example
 * const loss = r3dLoss(out, { labels, action, duration }, { padIndex: 13 });
 * loss.total.print();
 */
export function r3dLoss(
  outputs: { action: tf.Tensor3D; duration: tf.Tensor2D; segmentation: tf.Tensor3D },
  targets: R3DTargets,
  options: LossOptions,
): R3DLoss {
  const [b, t, classes] = outputs.segmentation.shape;
  const q = outputs.action.shape[1];
  const pad = options.padIndex;
  const ignored = new Set([pad, ...(options.ignoreIndices ?? [47, -1])]);
  const byAll = (options.denominator ?? 'all') === 'all';
  const labels = hostValues(targets.labels, 'targets.labels', b * t);
  const action = hostValues(targets.action, 'targets.action', b * q);
  const duration = hostValues(targets.duration, 'targets.duration', b * q);
  const seg = maskedTargets(labels, classes, ignored, 'targets.labels');
  const act = maskedTargets(action, classes, ignored, 'targets.action');

  const transition = options.transitionWeight ?? 10;
  const itemWeights: number[] = [];
  for (let i = 0; i < b; i++) {
    let last = Number.NaN;
    for (let j = t - 1; j >= 0; j--) if (labels[i * t + j] !== pad) { last = labels[i * t + j]!; break; }
    itemWeights.push(action[i * q] !== last ? transition : 1);
  }
  const actWeight = Float32Array.from(act.keep, (k, i) => k * itemWeights[Math.floor(i / q)]!);
  const durMask = Float32Array.from(duration, (v) => (v !== pad ? 1 : 0));
  const durTarget = Float32Array.from(duration, (v, i) => v * durMask[i]!);
  const count = (w: Float32Array) => w.reduce((a, v) => a + v, 0);
  const w = options.weights ?? {};

  return tf.tidy(() => {
    const segDen = byAll ? b * t : Math.max(count(seg.keep), 1);
    const actDen = byAll ? b * q : Math.max(count(act.keep), 1);
    const segmentation = tf.div(crossEntropySum(outputs.segmentation, seg.index, seg.keep, classes), segDen) as tf.Scalar;
    const actionLoss = tf.div(crossEntropySum(outputs.action, act.index, actWeight, classes), actDen) as tf.Scalar;
    const mask = tf.tensor2d(durMask, [b, q]);
    const p = tf.mul(tf.exp(outputs.duration), mask);
    // F.normalize(p, p=1): divide by max(||p||_1, 1e-12)
    const normalised = tf.div(p, tf.maximum(tf.sum(tf.abs(p), 1, true), 1e-12));
    const durationLoss = tf.div(tf.sum(tf.square(tf.sub(normalised, tf.tensor2d(durTarget, [b, q])))), Math.max(count(durMask), 1)) as tf.Scalar;
    const total = tf.addN([
      tf.mul(segmentation, w.segmentation ?? 1),
      tf.mul(actionLoss, w.action ?? 1),
      tf.mul(durationLoss, w.duration ?? 1),
    ]) as tf.Scalar;
    return { segmentation, action: actionLoss, duration: durationLoss, total, itemWeights };
  });
}
