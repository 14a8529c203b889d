import * as tf from '@tensorflow/tfjs-core';
import { FuserError } from '../errors.js';
import { type Fuser, type FuserApplyOptions, type FuserName, type FuserOutput, checkStreams } from '../fuser.js';
import type { SetWeightsOptions, WeightSource } from '../weights.js';

/**
 * The mean baseline: fused = (X + Y) / 2, frame by frame. No weights.
 *
 * @example
 * const { fused } = new MeanFuser().apply(rgb, depth);
 */
export class MeanFuser implements Fuser {
  readonly name: FuserName = 'mean';
  readonly channels: number;

  constructor(options: { channels?: number } = {}) {
    this.channels = options.channels ?? 128;
  }

  apply(x: tf.Tensor3D, y: tf.Tensor3D, _options: FuserApplyOptions = {}): FuserOutput {
    checkStreams(x, y, this.channels);
    return { fused: tf.tidy(() => tf.mul(tf.add(x, y), 0.5)) as tf.Tensor3D };
  }

  getWeights(): Map<string, tf.Tensor> {
    return new Map();
  }

  setWeights(weights: WeightSource, _options?: SetWeightsOptions): void {
    const names = weights instanceof Map ? [...weights.keys()] : Object.keys(weights);
    if (names.length > 0) throw new FuserError({ field: `weight '${names[0]}'`, expected: 'no weights (the mean fuser has none)', found: 'a weight' });
  }

  get trainableVariables(): tf.Variable[] {
    return [];
  }

  get namedTrainableVariables(): Map<string, tf.Variable> {
    return new Map();
  }

  dispose(): void {}
}
