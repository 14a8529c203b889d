import * as tf from '@tensorflow/tfjs-core';
import { CrossModalBlock } from '../cross-modal-block.js';
import { dropout } from '../dropout.js';
import { type FuserApplyOptions, type FuserName, type FuserOutput, checkStreams, splitTokens } from '../fuser.js';
import { makeVariable } from '../weights.js';
import { RegistryFuser } from './base.js';

export interface SaFuserOptions {
  channels?: number;
  heads?: number;
  mlpRatio?: number;
  dropout?: number;
  seed?: number;
}

/**
 * The "no exchange" baseline, AFFT's SA-Fuser: a learned modality token is added to each stream
 * (`modality_token` (2, C): row 0 RGB, row 1 partner), then the same cross-modal block, final
 * LayerNorm and mean of the 2 tokens as RTF. Weights: `modality_token`, `blocks.0.*`, `norm.*`.
 *
 * @example
 * const fuser = new SaFuser({ seed: 1 });
 * const { fused } = fuser.apply(rgb, depth);
 */
export class SaFuser extends RegistryFuser {
  readonly name: FuserName = 'sa-fuser';
  readonly dropout: number;
  readonly modalityToken: tf.Variable;
  readonly block: CrossModalBlock;

  constructor(options: SaFuserOptions = {}) {
    const C = options.channels ?? 128;
    super(C);
    this.dropout = options.dropout ?? 0.1;
    this.modalityToken = this.registry.add(
      'modality_token',
      makeVariable(tf.truncatedNormal([2, C], 0, 0.02, 'float32', options.seed), 'modality_token'),
    );
    this.block = new CrossModalBlock(this.registry, {
      channels: C,
      heads: options.heads ?? 8,
      mlpRatio: options.mlpRatio ?? 4,
      ...(options.seed != null ? { seed: options.seed + 1 } : {}),
    });
  }

  apply(x: tf.Tensor3D, y: tf.Tensor3D, options: FuserApplyOptions = {}): FuserOutput {
    const [B, T, C] = checkStreams(x, y, this.channels);
    return tf.tidy(() => {
      const [mx, my] = tf.split(this.modalityToken, 2, 0).map((t) => tf.reshape(t, [C]));
      let tokens = tf.reshape(tf.stack([tf.add(x, mx!), tf.add(y, my!)], 2), [B * T, 2, C]) as tf.Tensor3D;
      if ((options.dropout ?? options.training) && this.dropout > 0) tokens = dropout(tokens, this.dropout, options.seed) as tf.Tensor3D;
      const { block, normed } = this.block.apply(tokens);
      return {
        fused: tf.reshape(tf.mean(normed, 1), [B, T, C]) as tf.Tensor3D,
        block: tf.reshape(block, [B, T, 2, C]) as tf.Tensor4D,
        ...(options.pair ? { pair: splitTokens(normed, B, T) } : {}),
      };
    });
  }
}
