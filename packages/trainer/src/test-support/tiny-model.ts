// Test-only model that follows TrainableModel: per-modality linear token encoders, a summed
// "fusion", per-frame segmentation and pooled query heads. Small enough for cpu tests.
import { Rng } from '@r3d-ts/datasets';
import * as tf from '@tensorflow/tfjs-core';
import type { AnticipationBatch, AnticipationOutputs, ForwardOptions, LabelSpace, TrainableModel } from '../model.js';

export class TinyModel implements TrainableModel {
  readonly trainableVariables: Record<string, tf.Variable>;
  private readonly q = 8;

  constructor(private readonly labels: LabelSpace, dims: Record<string, number>, private readonly c = 16, seed = 0, private readonly dropout = 0.1) {
    const rng = new Rng(seed);
    const init = (shape: number[], scale: number): tf.Variable => {
      const n = shape.reduce((a, b) => a * b, 1);
      return tf.variable(tf.tensor(Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale), shape));
    };
    const n = labels.numClasses;
    this.trainableVariables = {};
    for (const [m, dim] of Object.entries(dims).sort()) {
      this.trainableVariables[`${m}.weight`] = init([dim, c], 1 / Math.sqrt(dim));
      this.trainableVariables[`${m}.bias`] = init([c], 0.01);
    }
    this.trainableVariables['seg.weight'] = init([c, n], 1 / Math.sqrt(c));
    this.trainableVariables['action.weight'] = init([c, this.q * n], 1 / Math.sqrt(c));
    this.trainableVariables['action.bias'] = init([this.q * n], 0.01);
    this.trainableVariables['duration.weight'] = init([c, this.q], 1 / Math.sqrt(c));
  }

  forward(batch: AnticipationBatch, options: ForwardOptions): AnticipationOutputs {
    const v = this.trainableVariables;
    const before: Record<string, tf.Tensor> = {};
    const names = Object.keys(batch.modalities).sort();
    const [b, t] = batch.mask.shape;
    for (const m of names) {
      const x = tf.reshape(batch.modalities[m], [b * t, -1]);
      before[m] = tf.reshape(tf.relu(tf.add(tf.matMul(x, v[`${m}.weight`]), v[`${m}.bias`])), [b, t, this.c]);
    }
    let fused = tf.addN(names.map((m) => before[m]));
    if (options.training && this.dropout > 0) fused = tf.dropout(fused, this.dropout, undefined, options.seed);
    const seg = tf.reshape(tf.matMul(tf.reshape(fused, [b * t, this.c]), v['seg.weight']), [b, t, -1]);
    const mask = tf.expandDims(batch.mask, 2);
    const pooled = tf.div(tf.sum(tf.mul(fused, mask), 1), tf.sum(mask, 1));
    // the last observed frame carries most of the information about what comes next
    const lastIdx = tf.tensor1d(batch.lengths.map((l, i) => i * t + l - 1), 'int32');
    const last = tf.matMul(tf.cast(tf.oneHot(lastIdx, b * t), 'float32'), tf.reshape(fused, [b * t, this.c]));
    const h = tf.add(pooled, last);
    const n = this.labels.numClasses;
    const actionLogits = tf.reshape(tf.add(tf.matMul(h, v['action.weight']), v['action.bias']), [b, this.q, n]);
    const durations = tf.matMul(h, v['duration.weight']);
    const fusion = names.length === 2 ? { modalities: [names[0], names[1]] as const, tokens: { x: before[names[0]] as tf.Tensor3D, y: before[names[1]] as tf.Tensor3D, fused: fused as tf.Tensor3D } } : undefined;
    return { actionLogits, durations, segLogits: seg, ...(options.returnTokens && fusion ? { fusion } : {}) };
  }

  loss(out: AnticipationOutputs, batch: AnticipationBatch): tf.Scalar {
    return tf.tidy(() => {
      const { segmentation, action, duration } = this.lossTerms(out, batch);
      return tf.addN([segmentation, action, duration]) as tf.Scalar;
    });
  }

  lossTerms(out: AnticipationOutputs, batch: AnticipationBatch): Record<string, tf.Scalar> {
    return tf.tidy(() => {
      const n = this.labels.numClasses;
      const ce = (logits: tf.Tensor, targets: tf.Tensor): tf.Scalar => {
        const flat = tf.reshape(targets, [-1]);
        const valid = tf.cast(tf.notEqual(flat, this.labels.pad), 'float32');
        const safe = tf.where(tf.notEqual(flat, this.labels.pad), flat, tf.zerosLike(flat));
        const logp = tf.logSoftmax(tf.reshape(logits, [-1, n]));
        const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.cast(safe, 'int32') as tf.Tensor1D, n)), 1);
        return tf.div(tf.neg(tf.sum(tf.mul(picked, valid))), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
      };
      const segmentation = ce(out.segLogits!, batch.observedLabels);
      const action = ce(out.actionLogits, batch.targetActions);
      const durMask = tf.cast(tf.notEqual(batch.targetDurations, this.labels.pad), 'float32');
      const p = tf.mul(tf.exp(out.durations), durMask);
      const pn = tf.div(p, tf.maximum(tf.sum(p, 1, true), 1e-6));
      const duration = tf.div(tf.sum(tf.square(tf.sub(pn, tf.mul(batch.targetDurations, durMask)))), tf.maximum(tf.sum(durMask), 1)) as tf.Scalar;
      return { segmentation, action, duration };
    });
  }

  /** The duration head's weights, standing in for a fuser's alpha in the TensorBoard tests. */
  histograms(): Record<string, Float32Array> {
    return { 'tiny/duration.weight': this.trainableVariables['duration.weight'].dataSync() as Float32Array };
  }

  getWeights(): tf.NamedTensorMap {
    const out: tf.NamedTensorMap = {};
    for (const [k, v] of Object.entries(this.trainableVariables)) out[k] = v.clone();
    return out;
  }

  setWeights(weights: tf.NamedTensorMap): void {
    for (const [k, v] of Object.entries(this.trainableVariables)) v.assign(weights[k]);
  }

  dispose(): void {
    for (const v of Object.values(this.trainableVariables)) v.dispose();
  }
}
