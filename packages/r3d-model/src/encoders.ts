import { linear } from '@r3d-ts/rtf-fuser';
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderConfig } from './config.js';
import { ModelConfigError } from './errors.js';
import { linearNormRelu } from './linear-norm-relu.js';

/** Parameter lookup by PyTorch name. */
export type ParamGetter = (name: string) => tf.Tensor;

/**
 * Runs one per-frame encoder: (B, T, D) features, or (B, T, H, W) frames flattened row-major,
 * -> Linear -> [LayerNorm] -> ReLU -> (B, T, C) tokens. The input itself gets no gradient.
 */
export function encodeFrames(x: tf.Tensor, e: EncoderConfig, param: ParamGetter, field: string): tf.Tensor3D {
  const expectRank = e.frameShape ? 4 : 3;
  if (x.rank !== expectRank && !(e.frameShape && x.rank === 3)) {
    const what = e.frameShape ? `(B, T, ${e.frameShape[0]}, ${e.frameShape[1]}) frames or (B, T, ${e.inputDim})` : `(B, T, ${e.inputDim})`;
    throw new ModelConfigError(field, `a tensor of shape ${what}`, `[${x.shape.join(', ')}]`);
  }
  const [b, t] = x.shape as [number, number];
  const perFrame = x.shape.slice(2).reduce((a, n) => a * n, 1);
  if (perFrame !== e.inputDim || (e.frameShape && x.rank === 4 && (x.shape[2] !== e.frameShape[0] || x.shape[3] !== e.frameShape[1]))) {
    const what = e.frameShape ? `(B, T, ${e.frameShape[0]}, ${e.frameShape[1]})` : `(B, T, ${e.inputDim})`;
    throw new ModelConfigError(field, `a tensor of shape ${what}`, `[${x.shape.join(', ')}]`);
  }
  const flat = tf.reshape(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), [b * t, e.inputDim]);
  const w = param(`${e.linearName}.weight`) as tf.Tensor2D;
  const bias = param(`${e.linearName}.bias`) as tf.Tensor1D;
  if (e.layerNorm) {
    // one fused kernel where the backend has it (native-blas: the depth projection, 61 MB of frames)
    const y = linearNormRelu(flat as tf.Tensor2D, w, bias, param(`${e.layerNormName}.weight`) as tf.Tensor1D, param(`${e.layerNormName}.bias`) as tf.Tensor1D);
    return tf.reshape(y, [b, t, -1]) as tf.Tensor3D;
  }
  const h = linear(flat, w, bias, { inputGrad: false });
  return tf.reshape(tf.relu(h), [b, t, -1]) as tf.Tensor3D;
}
