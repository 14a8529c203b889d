import * as tf from '@tensorflow/tfjs-core';
import { type WeightRegistry, makeVariable } from './weights.js';

/** PyTorch BatchNorm1d's defaults, which the released model uses. */
export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/**
 * BatchNorm1d over the channels of (B, T, C) tokens, as the released model applies it per
 * modality before scoring. Training: statistics of all B*T frames (padded frames included, as
 * the authors' model does), biased variance to normalise, running statistics updated with
 * momentum 0.1 and the unbiased variance. Evaluation: the running statistics.
 */
export class BatchNorm1d {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;

  constructor(
    registry: WeightRegistry,
    prefix: string,
    channels: number,
    readonly eps = BN_EPS,
    readonly momentum = BN_MOMENTUM,
  ) {
    this.weight = registry.add(`${prefix}.weight`, makeVariable(tf.ones([channels]), `${prefix}.weight`));
    this.bias = registry.add(`${prefix}.bias`, makeVariable(tf.zeros([channels]), `${prefix}.bias`));
    this.runningMean = registry.add(`${prefix}.running_mean`, makeVariable(tf.zeros([channels]), `${prefix}.running_mean`, false), 'plain', false);
    this.runningVar = registry.add(`${prefix}.running_var`, makeVariable(tf.ones([channels]), `${prefix}.running_var`, false), 'plain', false);
  }

  /** Normalises `x` (B, T, C); in training also updates the running statistics. */
  apply(x: tf.Tensor, training: boolean): tf.Tensor {
    return tf.tidy(() => {
      const C = x.shape[x.rank - 1]!;
      if (!training) {
        const scale = tf.mul(this.weight, tf.rsqrt(tf.add(this.runningVar, this.eps)));
        return tf.add(tf.mul(tf.sub(x, this.runningMean), scale), this.bias);
      }
      const rows = tf.reshape(x, [-1, C]);
      const n = rows.shape[0]!;
      const mean = tf.mean(rows, 0);
      const centred = tf.sub(x, mean);
      const variance = tf.mean(tf.square(tf.sub(rows, mean)), 0);
      const out = tf.add(tf.mul(centred, tf.mul(this.weight, tf.rsqrt(tf.add(variance, this.eps)))), this.bias);
      const m = this.momentum;
      const unbiased = n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
      return out;
    });
  }
}
