import * as tf from '@tensorflow/tfjs-core';

// Weights stay in PyTorch's (out, in) layout, so dx = dy @ W needs no transpose. How y = x @ W^T
// and dW = dy^T @ x are computed depends on the backend:
// - wasm: only the plain 2-D, non-transposed matMul is fast (TOOLCHAIN.md), and tf's own matMul
//   gradient uses transposed products, so W and the small dy are transposed explicitly;
// - everywhere else (native-blas, the TensorFlow binding, cpu) a transposed operand costs nothing:
//   one fused product-plus-bias kernel forward, and no transposes at all.

type CustomGradFn = Parameters<typeof tf.customGrad>[0];
type Grad = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];

const plainProductsOnly = (): boolean => tf.getBackend() === 'wasm';

function product(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D | undefined): tf.Tensor2D {
  if (!plainProductsOnly()) return tf.fused.matMul({ a: x, b: w, transposeB: true, ...(bias ? { bias } : {}) }) as tf.Tensor2D;
  const y = tf.matMul(x, tf.transpose(w)) as tf.Tensor2D;
  return bias ? (tf.add(y, bias) as tf.Tensor2D) : y;
}

/** Inputs at least this large (elements) take the (x^T @ dy)^T weight gradient on wasm. */
const WIDE_INPUT = 1 << 20;

/** dW = dy^T @ x. */
function weightGrad(dy: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor2D {
  if (!plainProductsOnly()) return tf.matMul(dy, x, true, false);
  // wasm repacks a product's right operand on every call: for a wide input (the depth frames,
  // 800 x 19200) that is the 61 MB x itself, and dy^T @ x runs 2-3x slower than the same product
  // with x on the left. (x^T @ dy)^T sums the same terms in the same order (same bits, tested)
  // and packs only dy; the two transposes are plain copies.
  if (x.shape[1] > dy.shape[1] && x.size >= WIDE_INPUT) return tf.transpose(tf.matMul(tf.transpose(x), dy)) as tf.Tensor2D;
  return tf.matMul(tf.transpose(dy), x);
}

const withBias = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x, w]);
  const gradFunc: Grad = (dy, saved) => {
    const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
    const dy2 = dy as tf.Tensor2D;
    return [tf.matMul(dy2, ws), weightGrad(dy2, xs), tf.sum(dy2, 0)];
  };
  return { value: product(x, w, b), gradFunc };
}) as unknown as CustomGradFn) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

const withoutBias = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  const gradFunc: Grad = (dy, saved) => {
    const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
    const dy2 = dy as tf.Tensor2D;
    return [tf.matMul(dy2, ws), weightGrad(dy2, xs)];
  };
  return { value: product(x, w, undefined), gradFunc };
}) as unknown as CustomGradFn) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

// For raw inputs (RGB features, depth frames) nobody needs dx; computing it would cost a full
// (B*T, H*W) product, so the input is saved, not passed, and receives no gradient.
function inputLinear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | undefined): tf.Tensor2D {
  const f = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const ws = args[0] as tf.Tensor2D;
    const bs = b ? (args[1] as tf.Tensor1D) : undefined;
    save([x]);
    const gradFunc: Grad = (dy, saved) => {
      const dy2 = dy as tf.Tensor2D;
      const dw = weightGrad(dy2, saved[0] as tf.Tensor2D);
      return bs ? [dw, tf.sum(dy2, 0)] : [dw];
    };
    return { value: product(x, ws, bs), gradFunc };
  }) as unknown as CustomGradFn);
  return (b ? f(w, b) : f(w)) as tf.Tensor2D;
}

/**
 * A PyTorch `nn.Linear` on the last axis: y = x @ W^T + b with W in PyTorch's (out, in) layout,
 * the one linear layer of the repository (the fuser's blocks and the R3D model both use it), so
 * the authors' weights load without a transpose. Any leading axes are folded into one, so every
 * product is 2-D. On wasm the weight is transposed explicitly (only plain products are fast
 * there); elsewhere it is read transposed in place by a fused product-plus-bias kernel. With
 * `inputGrad: false` the input gets no gradient (raw features).
 *
 * @example
 * const y = linear(x, w, b); // x (B, T, 2048), w (128, 2048), b (128) -> y (B, T, 128)
 */
export function linear(x: tf.Tensor, weight: tf.Tensor2D, bias?: tf.Tensor1D, options: { inputGrad?: boolean } = {}): tf.Tensor {
  const inDim = x.shape[x.rank - 1]!;
  const lead = x.shape.slice(0, -1);
  const x2 = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
  let y: tf.Tensor2D;
  if (options.inputGrad === false) y = inputLinear(x2, weight, bias);
  else y = bias ? withBias(x2, weight, bias) : withoutBias(x2, weight);
  return x.rank === 2 ? y : tf.reshape(y, [...lead, weight.shape[0]]);
}
