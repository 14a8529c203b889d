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

/**
 * One batch's targets as the loss reads them, prepared on the host: class indices with padding and
 * ignored classes replaced by 0, their 0/1 (or transition-weighted) weights, the duration mask and
 * masked durations, and the three means' denominators. Every field is a tensor, so a captured step
 * (@r3d-ts/step-capture) can take them as inputs.
 */
export interface PreparedTargets {
  segIndex: tf.Tensor1D;
  segWeight: tf.Tensor1D;
  actIndex: tf.Tensor1D;
  actWeight: tf.Tensor1D;
  durMask: tf.Tensor2D;
  durTarget: tf.Tensor2D;
  segDenominator: tf.Scalar;
  actDenominator: tf.Scalar;
  durDenominator: tf.Scalar;
}

/** The fields of `PreparedTargets` in a fixed order, for passing them as a list of tensors. */
export const PREPARED_TARGET_FIELDS = ['segIndex', 'segWeight', 'actIndex', 'actWeight', 'durMask', 'durTarget', 'segDenominator', 'actDenominator', 'durDenominator'] as const;

/**
 * The host half of `r3dLoss`: reads the targets (a tensor is read back), checks every class index,
 * and builds the tensors `r3dLossFromTargets` reads, for outputs of shape (B, T, N) frames and
 * (B, Q) queries. The caller disposes `targets`' tensors. Also returns each item's transition
 * weight.
 *
 * @example
 * const { targets } = prepareTargets({ labels, action, duration }, { batch: 2, frames: 7, queries: 4, classes: 6 }, { padIndex: 6 });
 */
export function prepareTargets(
  targets: R3DTargets,
  shape: { batch: number; frames: number; queries: number; classes: number },
  options: LossOptions,
): { targets: PreparedTargets; itemWeights: number[] } {
  const { batch: b, frames: t, queries: q, classes } = shape;
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
  return {
    targets: {
      segIndex: tf.tensor1d(seg.index, 'int32'),
      segWeight: tf.tensor1d(seg.keep),
      actIndex: tf.tensor1d(act.index, 'int32'),
      actWeight: tf.tensor1d(actWeight),
      durMask: tf.tensor2d(durMask, [b, q]),
      durTarget: tf.tensor2d(durTarget, [b, q]),
      segDenominator: tf.scalar(byAll ? b * t : Math.max(count(seg.keep), 1)),
      actDenominator: tf.scalar(byAll ? b * q : Math.max(count(act.keep), 1)),
      durDenominator: tf.scalar(Math.max(count(durMask), 1)),
    },
    itemWeights,
  };
}

function crossEntropySum(logits: tf.Tensor, index: tf.Tensor, weight: tf.Tensor, classes: number): tf.Scalar {
  const flat = tf.reshape(logits, [-1, classes]);
  const picked = tf.sum(tf.mul(tf.logSoftmax(flat), tf.oneHot(index, classes)), 1);
  return tf.neg(tf.sum(tf.mul(picked, weight))) as tf.Scalar;
}

/**
 * The tensor half of `r3dLoss`: the three terms and their weighted sum from prepared targets,
 * reading no value back and making no tensor from JavaScript values that change between batches,
 * so a captured step replays it. `weights` are the terms' weights (all 1 as released).
 *
 * @example
 * const { targets } = prepareTargets(raw, { batch, frames, queries, classes }, { padIndex });
 * const loss = r3dLossFromTargets(out, targets); tf.dispose(targets as unknown as tf.Tensor[]);
 */
export function r3dLossFromTargets(
  outputs: { action: tf.Tensor3D; duration: tf.Tensor2D; segmentation: tf.Tensor3D },
  targets: PreparedTargets,
  weights: LossOptions['weights'] = {},
): Omit<R3DLoss, 'itemWeights'> {
  const classes = outputs.segmentation.shape[2];
  return tf.tidy(() => {
    const segmentation = tf.div(crossEntropySum(outputs.segmentation, targets.segIndex, targets.segWeight, classes), targets.segDenominator) as tf.Scalar;
    const actionLoss = tf.div(crossEntropySum(outputs.action, targets.actIndex, targets.actWeight, classes), targets.actDenominator) as tf.Scalar;
    const p = tf.mul(tf.exp(outputs.duration), targets.durMask);
    // F.normalize(p, p=1): divide by max(||p||_1, 1e-12)
    const normalised = tf.div(p, tf.maximum(tf.sum(tf.abs(p), 1, true), 1e-12));
    const durationLoss = tf.div(tf.sum(tf.square(tf.sub(normalised, targets.durTarget))), targets.durDenominator) as tf.Scalar;
    const total = tf.addN([
      tf.mul(segmentation, weights.segmentation ?? 1),
      tf.mul(actionLoss, weights.action ?? 1),
      tf.mul(durationLoss, weights.duration ?? 1),
    ]) as tf.Scalar;
    return { segmentation, action: actionLoss, duration: durationLoss, total };
  });
}

/**
 * The released training loss, term by term: segmentation cross-entropy over all observed
 * frames, transition-weighted (x10) cross-entropy over the queries' actions, and the MSE between
 * the L1-normalised exp(durations) and the true shares over valid queries. Padding and ignored
 * classes count 0; with `denominator: 'all'` (released) they stay in the mean's denominator.
 * It is `prepareTargets` followed by `r3dLossFromTargets`.
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
  const [batch, frames, classes] = outputs.segmentation.shape;
  const prepared = prepareTargets(targets, { batch, frames, queries: outputs.action.shape[1], classes }, options);
  try {
    return { ...r3dLossFromTargets(outputs, prepared.targets, options.weights), itemWeights: prepared.itemWeights };
  } finally {
    tf.dispose(Object.values(prepared.targets));
  }
}
