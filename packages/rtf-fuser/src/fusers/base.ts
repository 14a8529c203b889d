import type * as tf from '@tensorflow/tfjs-core';
import { FuserError } from '../errors.js';
import type { Fuser, FuserApplyOptions, FuserName, FuserOutput } from '../fuser.js';
import { type SetWeightsOptions, type WeightSource, WeightRegistry } from '../weights.js';

/**
 * The part every fuser shares: its weights live in one `WeightRegistry` (PyTorch names and
 * layouts), and the `Fuser` members about weights and variables delegate to it, so a fuser only
 * registers its weights in the constructor and implements `apply`.
 *
 * @example
 * class ScaleFuser extends RegistryFuser {
 *   readonly name = 'mean' as const;
 *   apply(x, y) { return { fused: tf.tidy(() => tf.mul(tf.add(x, y), 0.5)) }; }
 * }
 */
export abstract class RegistryFuser implements Fuser {
  abstract readonly name: FuserName;
  readonly channels: number;
  protected readonly registry = new WeightRegistry();

  constructor(channels: number) {
    this.channels = channels;
  }

  abstract apply(x: tf.Tensor3D, y: tf.Tensor3D, options?: FuserApplyOptions): FuserOutput;

  /** Weights by the authors' names, Linear weights in PyTorch's (out, in); new tensors owned by the caller. */
  getWeights(): Map<string, tf.Tensor> {
    return this.registry.get();
  }

  setWeights(weights: WeightSource, options?: SetWeightsOptions): void {
    this.registry.set(weights, options);
  }

  /** PyTorch shapes of every weight by name. */
  weightShapes(): Map<string, number[]> {
    return this.registry.shapes();
  }

  get trainableVariables(): tf.Variable[] {
    return this.registry.trainable();
  }

  get namedTrainableVariables(): Map<string, tf.Variable> {
    return this.registry.trainableByName();
  }

  dispose(): void {
    this.registry.dispose();
  }
}

/**
 * A fuser without weights (mean, late fusion): its registry stays empty, and loading any weight
 * into it is an error that says the fuser has none (rather than listing no valid names).
 */
export abstract class WeightlessFuser extends RegistryFuser {
  /** How the error names this fuser, e.g. `the mean fuser`. */
  protected abstract readonly description: string;

  override setWeights(weights: WeightSource, _options?: SetWeightsOptions): void {
    const names = weights instanceof Map ? [...weights.keys()] : Object.keys(weights);
    if (names.length > 0) throw new FuserError({ field: `weight '${names[0]}'`, expected: `no weights (${this.description} has none)`, found: 'a weight' });
  }
}
