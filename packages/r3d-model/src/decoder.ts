import { layerNorm, linear } from '@r3d-ts/rtf-fuser';
import * as tf from '@tensorflow/tfjs-core';
import type { ParamGetter } from './encoders.js';
import { type AttentionWeights, dropout, multiHeadAttention } from './layers.js';

export interface TransformerRunOptions {
  heads: number;
  /** Dropout rate in force (0 in evaluation). */
  dropout: number;
  /** (B, T) additive key bias: 0 for valid frames, -1e9 for padded ones. */
  keyBias?: tf.Tensor2D;
}

function attention(param: ParamGetter, name: string): AttentionWeights {
  return {
    inProjWeight: param(`${name}.in_proj_weight`) as tf.Tensor2D,
    inProjBias: param(`${name}.in_proj_bias`) as tf.Tensor1D,
    outProjWeight: param(`${name}.out_proj.weight`) as tf.Tensor2D,
    outProjBias: param(`${name}.out_proj.bias`) as tf.Tensor1D,
  };
}

function norm(x: tf.Tensor, param: ParamGetter, name: string): tf.Tensor3D {
  return layerNorm(x, param(`${name}.weight`) as tf.Tensor1D, param(`${name}.bias`) as tf.Tensor1D) as tf.Tensor3D;
}

function feedForward(x: tf.Tensor3D, param: ParamGetter, prefix: string, rate: number): tf.Tensor {
  const hidden = tf.relu(linear(x, param(`${prefix}.linear1.weight`) as tf.Tensor2D, param(`${prefix}.linear1.bias`) as tf.Tensor1D));
  return linear(dropout(hidden, rate), param(`${prefix}.linear2.weight`) as tf.Tensor2D, param(`${prefix}.linear2.bias`) as tf.Tensor1D);
}

/**
 * One DETR post-norm encoder layer (`forward_post`): q = k = src + pos, v = src. Only used when
 * `encoderLayers > 0`; the released model bypasses the encoder.
 */
export function encoderLayer(src: tf.Tensor3D, pos: tf.Tensor, param: ParamGetter, prefix: string, o: TransformerRunOptions): tf.Tensor3D {
  const qk = tf.add(src, pos) as tf.Tensor3D;
  const sa = multiHeadAttention(qk, qk, src, attention(param, `${prefix}.self_attn`), { heads: o.heads, keyBias: o.keyBias, dropout: o.dropout });
  const x = norm(tf.add(src, dropout(sa, o.dropout)), param, `${prefix}.norm1`);
  return norm(tf.add(x, dropout(feedForward(x, param, prefix, o.dropout), o.dropout)), param, `${prefix}.norm2`);
}

/**
 * One post-norm decoder layer with the released wiring: self-attention with query = key =
 * value = tgt + query_pos; cross-attention with query = tgt + query_pos and key = value =
 * memory + pos (padded frames masked by `keyBias`); FFN; a LayerNorm after each residual.
 */
export function decoderLayer(
  tgt: tf.Tensor3D,
  memoryWithPos: tf.Tensor3D,
  queryPos: tf.Tensor2D,
  param: ParamGetter,
  prefix: string,
  o: TransformerRunOptions,
): tf.Tensor3D {
  const q = tf.add(tgt, queryPos) as tf.Tensor3D;
  const sa = multiHeadAttention(q, q, q, attention(param, `${prefix}.self_attn`), { heads: o.heads, dropout: o.dropout });
  let x = norm(tf.add(tgt, dropout(sa, o.dropout)), param, `${prefix}.norm1`);
  const q2 = tf.add(x, queryPos) as tf.Tensor3D;
  const ca = multiHeadAttention(q2, memoryWithPos, memoryWithPos, attention(param, `${prefix}.multihead_attn`), {
    heads: o.heads,
    keyBias: o.keyBias,
    dropout: o.dropout,
  });
  x = norm(tf.add(x, dropout(ca, o.dropout)), param, `${prefix}.norm2`);
  return norm(tf.add(x, dropout(feedForward(x, param, prefix, o.dropout), o.dropout)), param, `${prefix}.norm3`);
}
