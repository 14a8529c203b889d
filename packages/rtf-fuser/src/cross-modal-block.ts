import * as tf from '@tensorflow/tfjs-core';
import { linear } from './linear.js';
import { gelu, layerNorm } from './norm-activation.js';
import { type WeightRegistry, makeVariable } from './weights.js';

export interface CrossModalBlockOptions {
  channels: number;
  heads?: number;
  /** MLP hidden width as a multiple of C (default 4). */
  mlpRatio?: number;
  /** Number of stacked blocks (default 1, as released). */
  depth?: number;
  seed?: number;
}

interface BlockWeights {
  norm1: [tf.Variable, tf.Variable];
  qkv: tf.Variable;
  proj: [tf.Variable, tf.Variable];
  norm2: [tf.Variable, tf.Variable];
  fc1: [tf.Variable, tf.Variable];
  fc2: [tf.Variable, tf.Variable];
}

/**
 * The cross-modal transformer of the fuser: pre-LayerNorm blocks (timm style, no qkv bias,
 * proj with bias, MLP 4C with exact GELU) over L tokens per frame, whose attention mask is -inf
 * on the diagonal so that each token attends only to the other modalities (with 2 tokens each
 * token's attention weight on the other is exactly 1, so the values are swapped directly: see
 * `mixTokens`), then a final LayerNorm. Attention for any other L is computed with element-wise
 * products (L is tiny), and every projection is one 2-D matmul on (N*L, C) rows, the wasm fast
 * path. Weight names: `blocks.{i}.norm1.*`,
 * `blocks.{i}.attn.qkv.weight`, `blocks.{i}.attn.proj.*`, `blocks.{i}.mlp.mlp.0.*`,
 * `blocks.{i}.mlp.mlp.2.*`, `blocks.{i}.norm2.*`, `norm.*`.
 */
export class CrossModalBlock {
  readonly channels: number;
  readonly heads: number;
  private readonly blocks: BlockWeights[] = [];
  private readonly norm: [tf.Variable, tf.Variable];

  constructor(registry: WeightRegistry, options: CrossModalBlockOptions) {
    const C = options.channels;
    this.channels = C;
    this.heads = options.heads ?? 8;
    const hidden = Math.round(C * (options.mlpRatio ?? 4));
    let seed = options.seed;
    const next = (): number | undefined => (seed == null ? undefined : seed++);
    // stored (out, in) as PyTorch's Linear; drawn (in, out) and transposed so a seed keeps its weights
    const lin = (name: string, inDim: number, outDim: number): tf.Variable =>
      registry.add(name, makeVariable(tf.tidy(() => tf.transpose(tf.truncatedNormal([inDim, outDim], 0, 0.02, 'float32', next()))), name));
    const vec = (name: string, n: number, value: number): tf.Variable =>
      registry.add(name, makeVariable(tf.fill([n], value), name));
    for (let i = 0; i < (options.depth ?? 1); i++) {
      const p = `blocks.${i}`;
      this.blocks.push({
        norm1: [vec(`${p}.norm1.weight`, C, 1), vec(`${p}.norm1.bias`, C, 0)],
        qkv: lin(`${p}.attn.qkv.weight`, C, 3 * C),
        proj: [lin(`${p}.attn.proj.weight`, C, C), vec(`${p}.attn.proj.bias`, C, 0)],
        norm2: [vec(`${p}.norm2.weight`, C, 1), vec(`${p}.norm2.bias`, C, 0)],
        fc1: [lin(`${p}.mlp.mlp.0.weight`, C, hidden), vec(`${p}.mlp.mlp.0.bias`, hidden, 0)],
        fc2: [lin(`${p}.mlp.mlp.2.weight`, hidden, C), vec(`${p}.mlp.mlp.2.bias`, C, 0)],
      });
    }
    this.norm = [vec('norm.weight', C, 1), vec('norm.bias', C, 0)];
  }

  /**
   * Runs the blocks on tokens (N, L, C) and returns both the block output before the final norm
   * (N, L, C) and the normalised tokens (N, L, C).
   */
  apply(tokens: tf.Tensor3D): { block: tf.Tensor3D; normed: tf.Tensor3D } {
    return tf.tidy(() => {
      const [N, L, C] = tokens.shape;
      let x: tf.Tensor = tf.reshape(tokens, [N * L, C]);
      for (const b of this.blocks) {
        x = tf.add(x, this.attention(layerNorm(x, ...b.norm1), b, N, L));
        const h = gelu(linear(layerNorm(x, ...b.norm2), b.fc1[0] as tf.Tensor2D, b.fc1[1] as tf.Tensor1D));
        x = tf.add(x, linear(h, b.fc2[0] as tf.Tensor2D, b.fc2[1] as tf.Tensor1D));
      }
      const normed = layerNorm(x, ...this.norm);
      return { block: tf.reshape(x, [N, L, C]) as tf.Tensor3D, normed: tf.reshape(normed, [N, L, C]) as tf.Tensor3D };
    });
  }

  /** Multi-head attention over the L tokens of each of N frames, diagonal masked out. */
  private attention(h: tf.Tensor, b: BlockWeights, N: number, L: number): tf.Tensor {
    const qkv = linear(h, b.qkv as tf.Tensor2D); // (N*L, 3C): q | k | v, heads in blocks of D
    return linear(mixTokens(qkv, N, L, this.heads), b.proj[0] as tf.Tensor2D, b.proj[1] as tf.Tensor1D);
  }
}

/**
 * The attention of the cross-modal block between its projections: q | k | v rows (N*L, 3C) in,
 * the heads' weighted values (N*L, C) out; each token attends to the other L - 1 tokens of its
 * frame (the diagonal is masked with -inf). With two tokens (the released fuser) the softmax over
 * [-inf, s] is exactly [0, 1] in float32 for any finite score s, so each token's output is the
 * other token's value and q and k get a zero gradient: the two tokens' values are swapped
 * directly (a slice, a split and a concat instead of ~40 kernels over (N, 2, H, 2, D) products
 * forward and backward). For finite inputs every value and gradient equals the composed softmax
 * attention's (`composed: true` forces that path, for tests); at most the sign of a zero differs.
 *
 * @example
 * const mixed = mixTokens(qkv, frames, 2, 8); // (frames * 2, C)
 */
export function mixTokens(qkv: tf.Tensor, N: number, L: number, heads: number, options: { composed?: boolean } = {}): tf.Tensor {
  const C = qkv.shape[1]! / 3;
  if (L === 2 && !options.composed) {
    const v = tf.reshape(tf.slice(qkv, [0, 2 * C], [N * L, C]), [N, L, C]);
    const [first, second] = tf.split(v, 2, 1);
    return tf.reshape(tf.concat([second!, first!], 1), [N * L, C]);
  }
  const H = heads;
  const D = C / H;
  const [q, k, v] = tf.split(qkv, 3, 1).map((t) => tf.reshape(t, [N, L, H, D]));
  // scores[n, i, h, j] = q[n, i, h] . k[n, j, h] / sqrt(D)
  const kByHead = tf.reshape(tf.transpose(k!, [0, 2, 1, 3]), [N, 1, H, L, D]);
  const scores = tf.mul(tf.sum(tf.mul(tf.reshape(q!, [N, L, H, 1, D]), kByHead), 4), 1 / Math.sqrt(D));
  const maskValues = new Float32Array(L * L);
  for (let i = 0; i < L; i++) maskValues[i * L + i] = -Infinity;
  const weights = tf.softmax(tf.add(scores, tf.tensor3d(maskValues, [L, 1, L])), -1); // (N, L, H, L)
  const vByHead = tf.reshape(tf.transpose(v!, [0, 2, 1, 3]), [N, 1, H, L, D]);
  const mixed = tf.sum(tf.mul(tf.reshape(weights, [N, L, H, L, 1]), vByHead), 3); // (N, L, H, D)
  return tf.reshape(mixed, [N * L, C]);
}
