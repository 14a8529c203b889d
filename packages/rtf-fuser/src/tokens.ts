import { batchEffectiveRank } from '@r3d-ts/rank-metrics';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The tokens around one fuser call, as a model hands them out from its forward pass: X (RGB) and
 * Y (partner) entering the fuser, the same after the exchange (rtf, hard-swap), the cross-modal
 * block's output before its final LayerNorm (rtf, sa-fuser) and the fused tokens. Every tensor is
 * (B, T, C) but `block`, (B, T, 2, C).
 */
// a type, not an interface, so outputs holding it stay a tf.TensorContainer (tf.tidy, tf.dispose)
export type FuserTokens = {
  x: tf.Tensor3D;
  y: tf.Tensor3D;
  exchangedX?: tf.Tensor3D;
  exchangedY?: tf.Tensor3D;
  block?: tf.Tensor4D;
  fused: tf.Tensor3D;
};

/** Which tokens `tokenRanks` measured as "after fusion" (see there). */
export type AfterTokens = 'exchanged' | 'block' | 'fused';

/** Effective ranks (the authors' variant) of one batch's tokens, one value per batch item. */
export interface TokenRanks {
  after: AfterTokens;
  xBefore: Float64Array;
  xAfter: Float64Array;
  yBefore: Float64Array;
  yAfter: Float64Array;
  fused: Float64Array;
}

/**
 * The effective rank (authors' variant, METHOD.md section 1) of each item's tokens around the
 * fuser, padded frames left out: each modality before fusion, and after it, where "after" is the
 * exchanged tokens when the fuser exchanges, else each modality's token out of the cross-modal
 * block, else the fused tokens (for both modalities); plus the fused tokens. The one place this is
 * computed: the trainer's rank monitor and the ablation both call it. Reads the tensors, keeps none.
 *
 * @example
 * const out = model.apply({ rgb, partner, lengths }, { training: false });
 * const r = tokenRanks(out.tokens, { lengths }); // r.after === 'exchanged' for rtf; r.xAfter[0] - r.xBefore[0] is item 0's RGB gain
 * tf.dispose(out);
 */
export function tokenRanks(tokens: FuserTokens, options: { lengths?: readonly number[] } = {}): TokenRanks {
  const rank = (t: tf.Tensor): Float64Array => batchEffectiveRank(t, { variant: 'authors', ...(options.lengths ? { lengths: options.lengths } : {}) });
  const fused = rank(tokens.fused);
  const common = { xBefore: rank(tokens.x), yBefore: rank(tokens.y), fused };
  if (tokens.exchangedX && tokens.exchangedY) return { after: 'exchanged', ...common, xAfter: rank(tokens.exchangedX), yAfter: rank(tokens.exchangedY) };
  const block = tokens.block;
  if (block && block.shape[2] === 2) {
    const [b, t, , c] = block.shape;
    const [x, y] = tf.tidy(() => [0, 1].map((i) => tf.reshape(tf.slice(block, [0, 0, i, 0], [b, t, 1, c]), [b, t, c])));
    try {
      return { after: 'block', ...common, xAfter: rank(x!), yAfter: rank(y!) };
    } finally {
      tf.dispose([x!, y!]);
    }
  }
  return { after: 'fused', ...common, xAfter: fused, yAfter: fused.slice() };
}
