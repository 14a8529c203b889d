import * as tf from '@tensorflow/tfjs-core';
import { type FuserApplyOptions, type FuserName, type FuserOutput, checkStreams } from '../fuser.js';
import { linear } from '../linear.js';
import { makeVariable } from '../weights.js';
import { RegistryFuser } from './base.js';

export interface ConcatFuserOptions {
  channels?: number;
  seed?: number;
}

/**
 * The concatenation baseline: [X, Y] along channels (2C) then one Linear(2C, C) per frame.
 * Weights: `projection.weight` (C, 2C) in PyTorch layout, `projection.bias` (C).
 *
 * @example
 * const { fused } = new ConcatFuser().apply(rgb, depth); // (B, T, 128)
 */
export class ConcatFuser extends RegistryFuser {
  readonly name: FuserName = 'concat';
  private readonly weight: tf.Variable;
  private readonly bias: tf.Variable;

  constructor(options: ConcatFuserOptions = {}) {
    const C = options.channels ?? 128;
    super(C);
    // PyTorch Linear's default init: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
    const bound = 1 / Math.sqrt(2 * C);
    const seed = options.seed;
    // stored (out, in) as PyTorch's Linear; drawn (in, out) and transposed so a seed keeps its weights
    const weight = tf.tidy(() => tf.transpose(tf.randomUniform([2 * C, C], -bound, bound, 'float32', seed)));
    this.weight = this.registry.add('projection.weight', makeVariable(weight, 'projection.weight'));
    this.bias = this.registry.add('projection.bias', makeVariable(tf.randomUniform([C], -bound, bound, 'float32', seed == null ? undefined : seed + 1), 'projection.bias'));
  }

  apply(x: tf.Tensor3D, y: tf.Tensor3D, _options: FuserApplyOptions = {}): FuserOutput {
    checkStreams(x, y, this.channels);
    return tf.tidy(() => ({
      fused: linear(tf.concat([x, y], 2), this.weight as tf.Tensor2D, this.bias as tf.Tensor1D) as tf.Tensor3D,
    }));
  }
}
