import type * as tf from '@tensorflow/tfjs-core';

/** What the model passes to its fuser on every call. */
export interface FuserCallOptions {
  /** Batch statistics (and their running update) and, unless `dropout` is false, dropout. */
  training: boolean;
  /** (B, T) 1 for a valid frame, 0 for padding. */
  mask?: tf.Tensor2D;
  /** Dropout on or off regardless of `training` (parity runs turn it off). */
  dropout?: boolean;
}

/**
 * The part of `@r3d-ts/rtf-fuser`'s `Fuser` the model relies on: fuse two (B, T, C) token
 * streams into one, and expose its weights by the authors' names (`fuser.` prefix).
 */
export interface FuserLike {
  apply(x: tf.Tensor3D, y: tf.Tensor3D, options: FuserCallOptions): { fused: tf.Tensor3D } & Record<string, unknown>;
  getWeights(): Map<string, tf.Tensor> | Record<string, tf.Tensor>;
  setWeights(weights: Map<string, tf.Tensor> | Record<string, tf.Tensor>): unknown;
  /** Variables an optimiser should update. */
  trainableVariables(): tf.Variable[];
  dispose(): void;
}
