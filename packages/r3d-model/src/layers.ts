import * as tf from '@tensorflow/tfjs-core';
import { type DropoutSeed, dropout as seededDropout, linear } from '@r3d-ts/rtf-fuser';

let dropoutSeeds: (() => DropoutSeed) | undefined;

/**
 * Runs `fn` with every dropout mask drawn from the seeds `seed`, `seed + 1`, ... in call order,
 * so a training step is reproducible bit for bit; with no seed, masks are unseeded. The seed may
 * be an int32 scalar tensor holding an unsigned 32-bit seed's pattern: the same masks as that
 * number, drawn without reading the seed back (a captured step then takes it as an input).
 *
 * @example
 * const out = withDropoutSeed(step * 1000, () => model.apply(inputs, { training: true }));
 */
export function withDropoutSeed<T>(seed: number | tf.Tensor | undefined, fn: () => T): T {
  if (seed == null) return fn();
  const previous = dropoutSeeds;
  let next = 0;
  dropoutSeeds = typeof seed === 'number' ? () => seed + next++ : () => ({ base: seed, offset: next++ });
  try {
    return fn();
  } finally {
    dropoutSeeds = previous;
  }
}

/** Inverted dropout when `rate > 0`; identity otherwise (evaluation, parity runs). */
export function dropout(x: tf.Tensor, rate: number): tf.Tensor {
  return rate > 0 ? seededDropout(x, rate, dropoutSeeds?.()) : x;
}

/** Weights of one `nn.MultiheadAttention`, PyTorch layout (packed q, k, v rows). */
export interface AttentionWeights {
  inProjWeight: tf.Tensor2D; // (3C, C)
  inProjBias: tf.Tensor1D; // (3C)
  outProjWeight: tf.Tensor2D; // (C, C)
  outProjBias: tf.Tensor1D; // (C)
}

export interface AttentionOptions {
  heads: number;
  /** (B, Lk) additive mask, 0 for a valid key and a large negative number for a padded one. */
  keyBias?: tf.Tensor2D;
  /** Dropout on the attention weights (training only). */
  dropout?: number;
}

function splitHeads(x: tf.Tensor2D, batch: number, length: number, heads: number): tf.Tensor4D {
  const dim = x.shape[1] / heads;
  return tf.transpose(tf.reshape(x, [batch, length, heads, dim]), [0, 2, 1, 3]);
}

/**
 * `nn.MultiheadAttention(query, key, value)` with batch-first (B, L, C) inputs, PyTorch 1.13
 * semantics: packed in-projection, q scaled by 1/sqrt(head dim) after its bias, softmax over
 * keys, heads concatenated, out-projection. When query, key and value are the same tensor one
 * (B*L, 3C) product serves all three.
 */
export function multiHeadAttention(
  query: tf.Tensor3D,
  key: tf.Tensor3D,
  value: tf.Tensor3D,
  w: AttentionWeights,
  options: AttentionOptions,
): tf.Tensor3D {
  const [batch, lq, c] = query.shape;
  const lk = key.shape[1];
  const { heads } = options;
  const headDim = c / heads;
  let q: tf.Tensor2D;
  let k: tf.Tensor2D;
  let v: tf.Tensor2D;
  const wq = tf.slice(w.inProjWeight, [0, 0], [c, c]);
  const bq = tf.slice(w.inProjBias, [0], [c]);
  if (query === key && key === value) {
    const qkv = linear(query, w.inProjWeight, w.inProjBias) as tf.Tensor3D;
    const flat = tf.reshape(qkv, [batch * lq, 3 * c]) as tf.Tensor2D;
    [q, k, v] = tf.split(flat, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  } else {
    q = tf.reshape(linear(query, wq, bq), [batch * lq, c]);
    if (key === value) {
      const wkv = tf.slice(w.inProjWeight, [c, 0], [2 * c, c]);
      const bkv = tf.slice(w.inProjBias, [c], [2 * c]);
      const kv = tf.reshape(linear(key, wkv, bkv), [batch * lk, 2 * c]) as tf.Tensor2D;
      [k, v] = tf.split(kv, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    } else {
      k = tf.reshape(linear(key, tf.slice(w.inProjWeight, [c, 0], [c, c]), tf.slice(w.inProjBias, [c], [c])), [batch * lk, c]);
      v = tf.reshape(linear(value, tf.slice(w.inProjWeight, [2 * c, 0], [c, c]), tf.slice(w.inProjBias, [2 * c], [c])), [batch * lk, c]);
    }
  }
  const qh = tf.mul(splitHeads(q, batch, lq, heads), 1 / Math.sqrt(headDim));
  const kt = tf.transpose(tf.reshape(k, [batch, lk, heads, headDim]), [0, 2, 3, 1]); // (B, h, d, Lk)
  const vh = splitHeads(v, batch, lk, heads);
  let scores: tf.Tensor = tf.matMul(qh, kt); // (B, h, Lq, Lk)
  if (options.keyBias) scores = tf.add(scores, tf.reshape(options.keyBias, [batch, 1, 1, lk]));
  const attn = dropout(tf.softmax(scores, -1), options.dropout ?? 0);
  const heads4 = tf.matMul(attn as tf.Tensor4D, vh); // (B, h, Lq, d)
  const merged = tf.reshape(tf.transpose(heads4, [0, 2, 1, 3]), [batch * lq, c]);
  return tf.reshape(linear(merged, w.outProjWeight, w.outProjBias), [batch, lq, c]);
}
