import * as tf from '@tensorflow/tfjs-core';
import type { DropoutSeed } from './dropout.js';
import { FuserError, shapeText } from './errors.js';
import type { FrameValidity } from './selection.js';
import type { SetWeightsOptions, WeightSource } from './weights.js';

/** The fusers `createFuser` builds. */
export type FuserName = 'rtf' | 'sa-fuser' | 'hard-swap' | 'concat' | 'mean' | 'late';

export const FUSER_NAMES: readonly FuserName[] = ['rtf', 'sa-fuser', 'hard-swap', 'concat', 'mean', 'late'];

/** Per-call options: training mode and which frames are real (the rest is padding). */
export interface FuserApplyOptions extends FrameValidity {
  /** Batch statistics, running-stat updates and dropout (default false). */
  training?: boolean;
  /** Dropout on or off; defaults to `training` (parity runs use training statistics without dropout). */
  dropout?: boolean;
  /** Seed of this call's dropout mask, so a training step is reproducible; unseeded when absent. */
  seed?: DropoutSeed;
  /** Also return `pair`, the two streams right before they merge (default false; concat has none). */
  pair?: boolean;
}

/**
 * What a fuser returns. Every tensor is new and belongs to the caller (dispose it, or call
 * `apply` inside `tf.tidy`). Fields a fuser does not compute are absent.
 */
export interface FuserOutput {
  /** Fused tokens (B, T, C); for the `late` fuser (2B, T, C): see `LateFusion`. */
  fused: tf.Tensor3D;
  /** X (RGB) and Y (partner) tokens after the exchange, right before the cross-modal block. */
  exchangedX?: tf.Tensor3D;
  exchangedY?: tf.Tensor3D;
  /** (B, k) int32: per sample, the channels each modality exchanged, in ascending score order. */
  selectedX?: tf.Tensor2D;
  selectedY?: tf.Tensor2D;
  /** The per-modality BatchNorm outputs, when BatchNorm is on. */
  normalisedX?: tf.Tensor3D;
  normalisedY?: tf.Tensor3D;
  /** The cross-modal block's output before the final LayerNorm, (B, T, 2, C). */
  block?: tf.Tensor4D;
  /**
   * With `pair: true`: the RGB and partner streams (B, T, C) right before the fuser merges them,
   * so that `fused` is their mean (rtf, hard-swap, sa-fuser: the block's normalised tokens, or
   * the exchanged tokens without a block; mean: the inputs) or, for `late`, their stacking.
   */
  pair?: [tf.Tensor3D, tf.Tensor3D];
}

/**
 * One interface for the rank-enhancing token fuser and its baselines, so a model and an
 * ablation can swap them by name. X is the RGB stream, Y the partner (depth, text, IMU).
 */
export interface Fuser {
  readonly name: FuserName;
  readonly channels: number;
  /** Fuses X and Y, each (B, T, C). */
  apply(x: tf.Tensor3D, y: tf.Tensor3D, options?: FuserApplyOptions): FuserOutput;
  /** Every weight by its PyTorch name (without the `fuser.` prefix), in PyTorch layout; new tensors owned by the caller. */
  getWeights(): Map<string, tf.Tensor>;
  /** Loads weights by PyTorch name; a wrong shape raises a FuserError naming the weight and both shapes. */
  setWeights(weights: WeightSource, options?: SetWeightsOptions): void;
  /** The variables an optimiser should update (running statistics excluded). */
  readonly trainableVariables: tf.Variable[];
  /** The same variables keyed by weight name, e.g. for optimiser state in a checkpoint. */
  readonly namedTrainableVariables: Map<string, tf.Variable>;
  dispose(): void;
}

/** The 2 tokens of each frame, (B*T, 2, C), as the two streams (B, T, C). */
export function splitTokens(tokens: tf.Tensor3D, batch: number, frames: number): [tf.Tensor3D, tf.Tensor3D] {
  const C = tokens.shape[2];
  const [x, y] = tf.split(tokens, 2, 1).map((t) => tf.reshape(t, [batch, frames, C]) as tf.Tensor3D);
  return [x!, y!];
}

/** Checks that X and Y are (B, T, C) with the fuser's C and the same B and T. */
export function checkStreams(x: tf.Tensor, y: tf.Tensor, channels: number): [number, number, number] {
  if (x.rank !== 3 || x.shape[2] !== channels) {
    throw new FuserError({ field: 'x', expected: `tokens of shape (B, T, ${channels})`, found: shapeText(x.shape) });
  }
  if (y.rank !== 3 || y.shape[0] !== x.shape[0] || y.shape[1] !== x.shape[1] || y.shape[2] !== channels) {
    throw new FuserError({ field: 'y', expected: `tokens of the shape of x ${shapeText(x.shape)}`, found: shapeText(y.shape) });
  }
  return x.shape as [number, number, number];
}
