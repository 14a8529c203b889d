import type { TensorInfo } from '@tensorflow/tfjs-core';

// The custom kernels R3D adds to TensorFlow.js, declared once as tfjs-core's kernel_names.ts
// declares its own: a backend registers a kernel under the name (@r3d-ts/native-blas does; for wasm,
// @r3d-ts/backend and @r3d-ts/optim do), a model calls it through
// `tf.engine().runKernel(name, inputs, attrs)` where `tf.getKernel(name, tf.getBackend())` exists
// and composes tf ops elsewhere
// (@r3d-ts/rtf-fuser's `layerNorm` and `gelu`, @r3d-ts/trainer's `AdamW`).
//
// Inputs are `Record<..., TensorInfo>` rather than tfjs-core's `Pick<NamedTensorInfoMap, ...>`:
// under strict null checks the Pick leaves every input `| undefined`. A Record still fits
// `NamedTensorInfoMap`, and a caller's `{ x, gamma, beta } satisfies R3DLayerNormInputs` keeps its
// tensors' type for `runKernel`.

/**
 * LayerNorm over the last axis, as torch.nn.LayerNorm (biased variance of the centred row):
 * inputs x (..., C), gamma (C), beta (C), all float32; attr epsilon; one output shaped as x.
 *
 * @example
 * tf.engine().runKernel(R3DLayerNorm, { x, gamma, beta } satisfies R3DLayerNormInputs, { epsilon: 1e-5 } satisfies R3DLayerNormAttrs);
 */
export const R3DLayerNorm = 'R3DLayerNorm';
export type R3DLayerNormInputs = Record<'x' | 'gamma' | 'beta', TensorInfo>;
export interface R3DLayerNormAttrs {
  /** Added to the variance before the square root (torch's default is 1e-5). */
  epsilon: number;
}

/**
 * LayerNorm's backward pass in closed form, the statistics recomputed from the saved input: with
 * xhat = (x - mean) * rstd and g = dy * gamma, dx = rstd * ((g - mean(g)) - xhat * mean(g * xhat)),
 * dgamma = the sum of dy * xhat over every axis but the last, dbeta = the sum of dy. Inputs dy and
 * x (..., C), gamma (C), all float32; attr epsilon; outputs [dx (shaped as x), dgamma (C), dbeta (C)].
 *
 * @example
 * const [dx, dgamma, dbeta] = tf.engine().runKernel(R3DLayerNormGrad, { dy, x, gamma } satisfies R3DLayerNormGradInputs, { epsilon: 1e-5 } satisfies R3DLayerNormAttrs) as tf.Tensor[];
 */
export const R3DLayerNormGrad = 'R3DLayerNormGrad';
export type R3DLayerNormGradInputs = Record<'dy' | 'x' | 'gamma', TensorInfo>;

/**
 * The exact GELU of torch.nn.GELU(), 0.5 x (1 + erf(x / sqrt 2)): input x (float32), no attrs,
 * one output shaped as x.
 *
 * @example
 * const y = tf.engine().runKernel(R3DGelu, { x } satisfies R3DGeluInputs) as tf.Tensor;
 */
export const R3DGelu = 'R3DGelu';
export type R3DGeluInputs = Record<'x', TensorInfo>;

/**
 * GELU's backward pass, dy * (Phi(x) + x phi(x)) with the normal CDF Phi and density phi: inputs
 * dy and x (float32, one shape), no attrs, one output shaped as x.
 *
 * @example
 * const dx = tf.engine().runKernel(R3DGeluGrad, { dy, x } satisfies R3DGeluGradInputs) as tf.Tensor;
 */
export const R3DGeluGrad = 'R3DGeluGrad';
export type R3DGeluGradInputs = Record<'dy' | 'x', TensorInfo>;

/**
 * One AdamW update of a parameter in torch.optim.AdamW's order of float32 operations: inputs
 * param, m, v, grad (float32, one shape); outputs [param, m, v] after the step.
 *
 * @example
 * const [p1, m1, v1] = tf.engine().runKernel(R3DAdamW, { param, m, v, grad } satisfies R3DAdamWInputs, attrs satisfies R3DAdamWAttrs) as tf.Tensor[];
 */
export const R3DAdamW = 'R3DAdamW';
export type R3DAdamWInputs = Record<'param' | 'm' | 'v' | 'grad', TensorInfo>;
export interface R3DAdamWAttrs {
  /** 1 - lr * weight decay: the decoupled decay multiplies the parameter first. */
  keep: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** sqrt(1 - beta2^t), the second moment's bias correction at step t. */
  bc2Sqrt: number;
  /** lr / (1 - beta1^t), the step scaled by the first moment's bias correction. */
  stepSize: number;
}

/**
 * A linear layer followed by LayerNorm and ReLU, the R3D depth encoder's projection in one kernel:
 * inputs x (N, K), weight (C, K) in PyTorch's (out, in) layout, bias, gamma, beta (C), all
 * float32; attr epsilon. Two outputs: [h = x W^T + bias (N, C), relu(LayerNorm(h))]; h is what
 * the backward pass needs (its closed-form LayerNorm gradient recomputes the statistics from it).
 *
 * @example
 * const [h, y] = tf.engine().runKernel(R3DLinearNormRelu, { x, weight, bias, gamma, beta } satisfies R3DLinearNormReluInputs, { epsilon: 1e-5 } satisfies R3DLinearNormReluAttrs) as tf.Tensor[];
 */
export const R3DLinearNormRelu = 'R3DLinearNormRelu';
export type R3DLinearNormReluInputs = Record<'x' | 'weight' | 'bias' | 'gamma' | 'beta', TensorInfo>;
export interface R3DLinearNormReluAttrs {
  /** The LayerNorm's epsilon, added to the variance before the square root. */
  epsilon: number;
}

/**
 * The multiplier `tf.dropout(x, rate, undefined, seed)` scales x by, floor(u + keep) / keep with
 * keep = 1 - rate and u drawn as `tf.randomUniform(shape, 0, 1, 'float32', seed)` draws it
 * (seedrandom's alea, seeded with the seed's decimal text), bit for bit. The seed comes in as a
 * tensor so that a captured step (@r3d-ts/step-capture) can replay with a new seed every step:
 * input seed, an int32 scalar holding the step seed's unsigned 32-bit pattern; attrs shape, rate
 * and offset, where the mask's seed is `(seed >>> 0) + offset`; one float32 output of `shape`.
 *
 * @example
 * const m = tf.engine().runKernel(R3DDropoutMultiplier, { seed: tf.scalar(7, 'int32') } satisfies R3DDropoutMultiplierInputs, { shape: [2, 3], rate: 0.1, offset: 0 } satisfies R3DDropoutMultiplierAttrs) as tf.Tensor;
 */
export const R3DDropoutMultiplier = 'R3DDropoutMultiplier';
export type R3DDropoutMultiplierInputs = Record<'seed', TensorInfo>;
export interface R3DDropoutMultiplierAttrs {
  /** The mask's shape (x's shape: no noise shape broadcasting). */
  shape: number[];
  /** The dropout rate, in [0, 1). */
  rate: number;
  /** Added to the unsigned seed: the n-th mask of a step uses the step's seed plus n. */
  offset: number;
}
