import * as tf from '@tensorflow/tfjs-core';
import {
  R3DGelu,
  R3DGeluGrad,
  R3DLayerNorm,
  R3DLayerNormGrad,
  type R3DGeluGradInputs,
  type R3DGeluInputs,
  type R3DLayerNormAttrs,
  type R3DLayerNormGradInputs,
  type R3DLayerNormInputs,
} from '@r3d-ts/kernel-names';

const LN_EPS = 1e-5;

// The fused ops a backend may add (@r3d-ts/native-blas registers them, and @r3d-ts/backend for wasm): one pass instead of
// 8-10 kernels (LayerNorm) or 5 (GELU). Elsewhere the composed ops run.

const hasKernel = (name: string): boolean => tf.getKernel(name, tf.getBackend()) !== undefined;

type CustomGradFn = Parameters<typeof tf.customGrad>[0];

/** Sum over every axis but the last: (..., C) -> (C). */
const sumToChannels = (t: tf.Tensor): tf.Tensor => tf.sum(tf.reshape(t, [-1, t.shape[t.rank - 1]!]), 0);

/**
 * LayerNorm's backward pass in closed form, the statistics recomputed from the saved input x: with
 * xhat = (x - mean) * rstd and g = dy * gamma, dx = rstd * ((g - mean(g)) - xhat * mean(g * xhat)),
 * dgamma = sum(dy * xhat), dbeta = sum(dy), the sums over every axis but the last. One kernel
 * where the backend registers `R3DLayerNormGrad` (native-blas, wasm: the same bits as these ops there),
 * else 17 composed ops. Used by the fused LayerNorm here and by R3D's fused depth projection.
 *
 * @example
 * const [dx, dgamma, dbeta] = layerNormGrad(dy, x, gamma); // dy, x (N, C); gamma (C)
 */
export function layerNormGrad(dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor, eps = LN_EPS): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (hasKernel(R3DLayerNormGrad) && dy.dtype === 'float32' && x.dtype === 'float32') {
    const [dx, dgamma, dbeta] = tf.engine().runKernel(R3DLayerNormGrad, { dy, x, gamma } satisfies R3DLayerNormGradInputs, { epsilon: eps } satisfies R3DLayerNormAttrs) as tf.Tensor[];
    return [dx!, dgamma!, dbeta!];
  }
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), eps));
    const xhat = tf.mul(centred, rstd);
    const g = tf.mul(dy, gamma);
    const dx = tf.mul(rstd, tf.sub(tf.sub(g, tf.mean(g, -1, true)), tf.mul(xhat, tf.mean(tf.mul(g, xhat), -1, true))));
    return [dx, sumToChannels(tf.mul(dy, xhat)), sumToChannels(dy)] as [tf.Tensor, tf.Tensor, tf.Tensor];
  });
}

const fusedLayerNorms = new Map<number, (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor>();
function fusedLayerNormFor(eps: number): (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor {
  let f = fusedLayerNorms.get(eps);
  if (!f) {
    f = tf.customGrad(((x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, save: tf.GradSaveFunc) => {
      save([x, gamma]);
      const value = tf.engine().runKernel(R3DLayerNorm, { x, gamma, beta } satisfies R3DLayerNormInputs, { epsilon: eps } satisfies R3DLayerNormAttrs) as tf.Tensor;
      const gradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, gs] = saved as [tf.Tensor, tf.Tensor];
        return layerNormGrad(dy as tf.Tensor, xs, gs, eps);
      };
      return { value, gradFunc };
    }) as unknown as CustomGradFn) as (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor;
    fusedLayerNorms.set(eps, f);
  }
  return f;
}

/** LayerNorm as one fused kernel with a closed-form gradient, or undefined when the current backend registers none. */
function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = LN_EPS): tf.Tensor | undefined {
  return hasKernel(R3DLayerNorm) && x.dtype === 'float32' ? fusedLayerNormFor(eps)(x, gamma, beta) : undefined;
}

/**
 * LayerNorm over the last axis (biased variance, eps 1e-5), as torch.nn.LayerNorm: one fused
 * kernel where the backend has it (native-blas, wasm), elsewhere composed as the mean of the squared
 * deviations from the mean. The repository's one LayerNorm: the fuser's blocks and the R3D model's
 * encoders and decoder all run it.
 *
 * @example
 * const y = layerNorm(tokens, gamma, beta); // tokens (N, L, C), gamma and beta (C)
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = LN_EPS): tf.Tensor {
  const fused = fusedLayerNorm(x, gamma, beta, eps);
  if (fused) return fused;
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), -1, true);
    return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
  });
}

// d/dx GELU(x) = Phi(x) + x phi(x) = 0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi)
const fusedGelu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  const value = tf.engine().runKernel(R3DGelu, { x } satisfies R3DGeluInputs) as tf.Tensor;
  const gradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const xs = saved[0]!;
    // one pass where the backend has it (native-blas, wasm: the same bits as the ops below there)
    if (hasKernel(R3DGeluGrad)) return [tf.engine().runKernel(R3DGeluGrad, { dy: dy as tf.Tensor, x: xs } satisfies R3DGeluGradInputs) as tf.Tensor];
    const cdf = tf.mul(tf.add(1, tf.erf(tf.mul(xs, Math.SQRT1_2))), 0.5);
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return [tf.mul(dy as tf.Tensor, tf.add(cdf, tf.mul(xs, pdf)))];
  };
  return { value, gradFunc };
}) as unknown as CustomGradFn) as (x: tf.Tensor) => tf.Tensor;

/**
 * The exact (erf) GELU of torch.nn.GELU(): 0.5 x (1 + erf(x / sqrt 2)); one fused kernel where
 * the backend has it (native-blas, wasm), composed ops elsewhere.
 *
 * @example
 * const h = gelu(linear(x, w1, b1));
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (hasKernel(R3DGelu) && x.dtype === 'float32') return fusedGelu(x);
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}
