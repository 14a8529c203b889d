import * as tf from '@tensorflow/tfjs-core';
import './gradients.js';

/**
 * 2-D matrix product `a @ b` whose gradient transposes explicitly and then calls the plain
 * non-transposed matMul. On the wasm backend only that plain 2-D kernel is fast (about 15 GFLOP/s
 * against 1.2 for `transposeA/B` or batched matmuls, see TOOLCHAIN.md), and tf's own matMul
 * gradient uses the transposed forms, so this makes a training step several times faster there.
 *
 * @example
 * const y = matMul2d(tf.ones([4, 3]), tf.ones([3, 2])); // (4, 2), all 3
 */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return matMulWithGrad(a, b) as tf.Tensor2D;
}

const matMulWithGrad = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const g = dy as tf.Tensor2D;
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(g, tf.transpose(sb)), tf.matMul(tf.transpose(sa), g)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * A linear layer on rows: `x @ weight + bias` for `x` of shape (N, in), `weight` stored (in, out)
 * (the transpose of PyTorch's (out, in) `Linear.weight`), `bias` (out). Any leading axes are
 * flattened into N first and restored after, so (B, T, in) works and still runs the fast 2-D kernel.
 *
 * @example
 * const w = tf.variable(tf.randomNormal([128, 512]));
 * const h = linear(tokens, w);              // tokens (B, T, 128) -> (B, T, 512)
 */
export function linear(x: tf.Tensor, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor {
  const inDim = weight.shape[0];
  const outDim = weight.shape[1];
  const lead = x.shape.slice(0, -1);
  const x2 = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
  let y: tf.Tensor = matMul2d(x2, weight);
  if (bias) y = tf.add(y, bias);
  return x.rank === 2 ? y : tf.reshape(y, [...lead, outDim]);
}
