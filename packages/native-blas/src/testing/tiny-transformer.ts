import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';

/** Sizes of the transformer-like block used by the soak test and the bench. */
export interface TinyTransformerSize {
  batch: number;
  tokens: number;
  channels: number;
  heads: number;
  hidden: number;
}

/**
 * One pre-norm transformer block (multi-head self-attention + ReLU MLP) with a mean-squared-error
 * loss and Adam: the kernels an R3D training step spends its time in (batched and transposed
 * matmuls, softmax, layer norm, fused bias + activation, their gradients).
 */
export function tinyTransformer(size: TinyTransformerSize, seed = 1) {
  const { batch: B, tokens: T, channels: C, heads: H, hidden } = size;
  const d = C / H;
  const init = (shape: number[], fanIn: number, s: number) => tf.variable(tf.randomNormal(shape, 0, 1 / Math.sqrt(fanIn), 'float32', seed + s));
  const params = {
    wq: init([C, C], C, 1),
    wk: init([C, C], C, 2),
    wv: init([C, C], C, 3),
    wo: init([C, C], C, 4),
    w1: init([C, hidden], C, 5),
    b1: tf.variable(tf.zeros([hidden])),
    w2: init([hidden, C], hidden, 6),
    b2: tf.variable(tf.zeros([C])),
    g: tf.variable(tf.ones([C])),
  };
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomNormal([B, T, C], 0, 1, 'float32', seed + 7);
  const target = tf.randomNormal([B, T, C], 0, 1, 'float32', seed + 8);

  // Functional ops only: tfjs-core's chained methods need a separate side-effect import.
  const layerNorm = (v: tf.Tensor2D) => {
    const { mean, variance } = tf.moments(v, -1, true);
    return tf.mul(tf.div(tf.sub(v, mean), tf.sqrt(tf.add(variance, 1e-5))), params.g) as tf.Tensor2D;
  };
  const heads = (v: tf.Tensor2D) => tf.reshape(tf.transpose(tf.reshape(v, [B, T, H, d]), [0, 2, 1, 3]), [B * H, T, d]);

  const forward = (): tf.Scalar => {
    const x2 = tf.reshape(x, [B * T, C]) as tf.Tensor2D;
    const n = layerNorm(x2);
    const q = heads(tf.matMul(n, params.wq));
    const k = heads(tf.matMul(n, params.wk));
    const v = heads(tf.matMul(n, params.wv));
    const att = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d)));
    const o = tf.reshape(tf.transpose(tf.reshape(tf.matMul(att, v), [B, H, T, d]), [0, 2, 1, 3]), [B * T, C]) as tf.Tensor2D;
    const h = tf.add(x2, tf.matMul(o, params.wo)) as tf.Tensor2D;
    const m = tf.fused.matMul({ a: layerNorm(h), b: params.w1, bias: params.b1, activation: 'relu' });
    const y = tf.add(h, tf.fused.matMul({ a: m, b: params.w2, bias: params.b2 }));
    return tf.losses.meanSquaredError(tf.reshape(target, [B * T, C]), y) as tf.Scalar;
  };

  return {
    /** One Adam step; returns the loss before the update. */
    step(): number {
      const loss = optimizer.minimize(forward, true)!;
      const value = loss.dataSync()[0]!;
      loss.dispose();
      return value;
    },
    forward,
    dispose(): void {
      for (const v of Object.values(params)) v.dispose();
      optimizer.dispose();
      x.dispose();
      target.dispose();
    },
  };
}
