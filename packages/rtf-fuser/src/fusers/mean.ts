import * as tf from '@tensorflow/tfjs-core';
import { type FuserApplyOptions, type FuserName, type FuserOutput, checkStreams } from '../fuser.js';
import { WeightlessFuser } from './base.js';

/**
 * The mean baseline: fused = (X + Y) / 2, frame by frame. No weights.
 *
 * @example
 * const { fused } = new MeanFuser().apply(rgb, depth);
 */
export class MeanFuser extends WeightlessFuser {
  readonly name: FuserName = 'mean';
  protected readonly description = 'the mean fuser';

  constructor(options: { channels?: number } = {}) {
    super(options.channels ?? 128);
  }

  apply(x: tf.Tensor3D, y: tf.Tensor3D, options: FuserApplyOptions = {}): FuserOutput {
    checkStreams(x, y, this.channels);
    const fused = tf.tidy(() => tf.mul(tf.add(x, y), 0.5)) as tf.Tensor3D;
    return options.pair ? { fused, pair: [tf.clone(x), tf.clone(y)] } : { fused };
  }
}
