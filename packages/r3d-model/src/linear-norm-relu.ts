import { layerNorm, layerNormGrad, linear } from '@r3d-ts/rtf-fuser';
import { R3DLinearNormRelu, type R3DLinearNormReluAttrs, type R3DLinearNormReluInputs } from '@r3d-ts/kernel-names';
import * as tf from '@tensorflow/tfjs-core';

const LN_EPS = 1e-5;

type CustomGradFn = Parameters<typeof tf.customGrad>[0];

// The backward pass is the composed path's, op for op (so the same bits where the forward is too):
// ReLU's dy * step (step(y) = step(h'), y = relu(h')), LayerNorm's closed form from the saved h
// (@r3d-ts/rtf-fuser's layerNormGrad, one kernel on native-blas), then the linear layer's weight gradient dh^T @ x and
// bias gradient. The input x is closed over, not passed, so it gets no gradient (raw data, the
// depth frames: a gradient for it would cost a full (N, K) product), as rtf-fuser's inputLinear.
function fused(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor2D {
  const f = tf.customGrad(((ws: tf.Tensor2D, bs: tf.Tensor1D, gs: tf.Tensor1D, betas: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const [h, y] = tf.engine().runKernel(
      R3DLinearNormRelu,
      { x, weight: ws, bias: bs, gamma: gs, beta: betas } satisfies R3DLinearNormReluInputs,
      { epsilon: LN_EPS } satisfies R3DLinearNormReluAttrs,
    ) as [tf.Tensor2D, tf.Tensor2D];
    save([x, h, gs, y]);
    const gradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [xs, hs, gSaved, ys] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
      const d = tf.mul(dy as tf.Tensor, tf.step(ys));
      const [dh, dgamma, dbeta] = layerNormGrad(d, hs, gSaved, LN_EPS);
      return [tf.matMul(dh as tf.Tensor2D, xs, true, false), tf.sum(dh, 0), dgamma, dbeta];
    };
    return { value: y, gradFunc };
  }) as unknown as CustomGradFn);
  return f(w, b, gamma, beta) as tf.Tensor2D;
}

/**
 * relu(LayerNorm(x @ W^T + b)) for a raw (N, K) input that gets no gradient (the R3D depth
 * encoder's projection): one fused kernel where the backend registers `R3DLinearNormRelu`
 * (native-blas, same bits as the composed ops there), else rtf-fuser's `linear` (with
 * `inputGrad: false`), `layerNorm` and `tf.relu`. W is in PyTorch's (out, in) layout; LayerNorm's
 * epsilon is torch's 1e-5.
 *
 * @example
 * const tokens = linearNormRelu(frames, w, b, gamma, beta); // frames (800, 19200), w (128, 19200) -> (800, 128)
 */
export function linearNormRelu(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor2D {
  if (tf.getKernel(R3DLinearNormRelu, tf.getBackend()) !== undefined && x.dtype === 'float32') return fused(x, weight, bias, gamma, beta);
  return tf.tidy(() => tf.relu(layerNorm(linear(x, weight, bias, { inputGrad: false }), gamma, beta)) as tf.Tensor2D);
}
