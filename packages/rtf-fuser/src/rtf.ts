import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm1d } from './batch-norm.js';
import { CrossModalBlock } from './cross-modal-block.js';
import { dropout } from './dropout.js';
import { FuserError } from './errors.js';
import { type ExchangeMode, blendChannels } from './exchange.js';
import { type FuserApplyOptions, type FuserName, type FuserOutput, checkStreams, splitTokens } from './fuser.js';
import { RegistryFuser } from './fusers/base.js';
import { CHANNEL_SELECTIONS, type ChannelSelection, exchangedChannelCount, selectChannels } from './selection.js';
import { makeVariable } from './weights.js';

/** Options of the rank-enhancing token fuser; the defaults are the authors' released model. */
export interface RtfOptions {
  /** Token width C (default 128). */
  channels?: number;
  /** Channel scoring (default `bn-gamma`, as released; the demo tensors use `variance`). */
  selection?: ChannelSelection;
  /** Exchange ratio, k = floor(ratio * C) channels per modality (default 0.1; the demo uses 0.3). */
  ratio?: number;
  /** q of `svd-energy` (default 8). */
  topQ?: number;
  /** Per-modality BatchNorm1d before scoring (default true, as released; required by `bn-gamma`). */
  batchNorm?: boolean;
  /** `raw`: a = alpha, unclamped, init uniform(0, 1) (released); `sigmoid`: a = sigmoid(alpha). */
  alpha?: 'raw' | 'sigmoid';
  /** Run the cross-modal block (default true); without it `fused` is the mean of the exchanged tokens. */
  crossModalBlock?: boolean;
  /** Attention heads of the block (default 8). */
  heads?: number;
  /** MLP width of the block as a multiple of C (default 4). */
  mlpRatio?: number;
  /** Dropout on the stacked tokens in training (default 0.1). */
  dropout?: number;
  /** Seed for the initial weights (default: unseeded). */
  seed?: number;
}

/** Internal: how the selected channels take the partner's value (`swap` = the hard-swap baseline). */
export interface RtfInternals {
  exchange?: ExchangeMode;
  name?: FuserName;
}

/**
 * The rank-enhancing token fuser (RTF) of R3D: per modality an optional BatchNorm, a hard
 * selection of the k lowest-scoring channels, a learned per-channel blend of those channels with
 * the partner's (one alpha for both directions, both reading the pre-exchange tokens), then a
 * cross-modal transformer block over the 2 tokens of each frame and the mean of the 2 outputs.
 * Weights carry the authors' PyTorch names: `alpha` (1, 1, C), `bn_rgb.*` / `bn_depth.*` (weight,
 * bias, running_mean, running_var), `blocks.0.*`, `norm.*`; Linear weights in PyTorch's (out, in).
 *
 * @example
 * const fuser = new RankEnhancingTokenFuser({ selection: 'variance', ratio: 0.3 });
 * const out = fuser.apply(rgb, depth, { training: true, lengths: [24, 20] }); // rgb, depth (B, T, 128)
 * out.fused; // (B, T, 128)
 */
export class RankEnhancingTokenFuser extends RegistryFuser {
  readonly name: FuserName;
  readonly selection: ChannelSelection;
  readonly ratio: number;
  readonly topQ: number | undefined;
  readonly alphaMode: 'raw' | 'sigmoid';
  readonly dropout: number;
  readonly exchange: ExchangeMode;
  readonly alpha: tf.Variable | null;
  readonly bnX: BatchNorm1d | null;
  readonly bnY: BatchNorm1d | null;
  readonly block: CrossModalBlock | null;

  constructor(options: RtfOptions = {}, internals: RtfInternals = {}) {
    const C = options.channels ?? 128;
    super(C);
    this.name = internals.name ?? 'rtf';
    this.exchange = internals.exchange ?? 'blend';
    this.selection = options.selection ?? 'bn-gamma';
    this.ratio = options.ratio ?? 0.1;
    this.topQ = options.topQ;
    this.alphaMode = options.alpha ?? 'raw';
    this.dropout = options.dropout ?? 0.1;
    const heads = options.heads ?? 8;
    if (!CHANNEL_SELECTIONS.includes(this.selection)) {
      throw new FuserError({ field: 'selection', expected: CHANNEL_SELECTIONS.join(' | '), found: String(this.selection) });
    }
    if (!(Number.isInteger(C) && C > 0 && C % heads === 0)) {
      throw new FuserError({ field: 'channels', expected: `a positive multiple of heads (${heads})`, found: String(C) });
    }
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new FuserError({ field: 'dropout', expected: 'a rate in [0, 1)', found: String(this.dropout) });
    if (this.alphaMode !== 'raw' && this.alphaMode !== 'sigmoid') {
      throw new FuserError({ field: 'alpha', expected: "'raw' | 'sigmoid'", found: String(this.alphaMode) });
    }
    exchangedChannelCount(this.ratio, C); // validates the ratio now rather than at the first apply
    const batchNorm = options.batchNorm ?? true;
    if (this.selection === 'bn-gamma' && !batchNorm) {
      throw new FuserError({ field: 'selection', expected: "'variance' or 'svd-energy' when batchNorm is off ('bn-gamma' reads the BatchNorm gamma)", found: 'bn-gamma' });
    }
    const seed = options.seed;
    if (this.exchange === 'blend') {
      // 'raw' starts a uniform in (0, 1); 'sigmoid' starts a at the same law through its logit.
      const u = tf.randomUniform([C], 0, 1, 'float32', seed);
      const init = this.alphaMode === 'raw' ? u : tf.tidy(() => { const c = tf.clipByValue(u, 0.01, 0.99); return tf.log(tf.div(c, tf.sub(1, c))); });
      if (init !== u) u.dispose();
      this.alpha = this.registry.add('alpha', makeVariable(init, 'alpha'), 'reshape');
    } else {
      this.alpha = null;
    }
    this.bnX = batchNorm ? new BatchNorm1d(this.registry, 'bn_rgb', C) : null;
    this.bnY = batchNorm ? new BatchNorm1d(this.registry, 'bn_depth', C) : null;
    this.block = options.crossModalBlock ?? true
      ? new CrossModalBlock(this.registry, { channels: C, heads, mlpRatio: options.mlpRatio ?? 4, ...(seed != null ? { seed: seed + 1 } : {}) })
      : null;
  }

  /** The effective blend weight a (C): alpha itself (`raw`) or sigmoid(alpha). */
  blendWeight(): tf.Tensor1D {
    if (!this.alpha) throw new FuserError({ field: 'alpha', expected: 'a blending fuser', found: 'a hard-swap fuser (no alpha)' });
    return (this.alphaMode === 'raw' ? this.alpha.clone() : tf.sigmoid(this.alpha)) as tf.Tensor1D;
  }

  apply(x: tf.Tensor3D, y: tf.Tensor3D, options: FuserApplyOptions = {}): FuserOutput {
    const [B, T, C] = checkStreams(x, y, this.channels);
    const training = options.training ?? false;
    return tf.tidy(() => {
      const nx = this.bnX ? (this.bnX.apply(x, training) as tf.Tensor3D) : x;
      const ny = this.bnY ? (this.bnY.apply(y, training) as tf.Tensor3D) : y;
      const pick = (t: tf.Tensor3D, bn: BatchNorm1d | null) =>
        selectChannels(t, {
          selection: this.selection,
          ratio: this.ratio,
          ...(this.topQ != null ? { topQ: this.topQ } : {}),
          ...(options.mask != null ? { mask: options.mask } : {}),
          ...(options.lengths != null ? { lengths: options.lengths } : {}),
          ...(bn ? { gamma: bn.weight } : {}),
        });
      const selX = pick(nx, this.bnX);
      const selY = pick(ny, this.bnY);
      const a = this.alpha ? (this.alphaMode === 'raw' ? this.alpha : tf.sigmoid(this.alpha)) : null;
      const { exchangedX, exchangedY } = blendChannels(nx, ny, a, selX.mask, selY.mask, this.exchange);
      const out: FuserOutput = {
        fused: undefined as unknown as tf.Tensor3D,
        exchangedX: exchangedX as tf.Tensor3D,
        exchangedY: exchangedY as tf.Tensor3D,
        selectedX: selX.indices,
        selectedY: selY.indices,
      };
      if (this.bnX) {
        out.normalisedX = nx;
        out.normalisedY = ny;
      }
      if (this.block) {
        let tokens = tf.reshape(tf.stack([exchangedX, exchangedY], 2), [B * T, 2, C]) as tf.Tensor3D;
        if ((options.dropout ?? training) && this.dropout > 0) tokens = dropout(tokens, this.dropout, options.seed) as tf.Tensor3D;
        const { block, normed } = this.block.apply(tokens);
        out.block = tf.reshape(block, [B, T, 2, C]) as tf.Tensor4D;
        out.fused = tf.reshape(tf.mean(normed, 1), [B, T, C]) as tf.Tensor3D;
        if (options.pair) out.pair = splitTokens(normed, B, T);
      } else {
        out.fused = tf.mul(tf.add(exchangedX, exchangedY), 0.5) as tf.Tensor3D;
        if (options.pair) out.pair = [tf.clone(exchangedX) as tf.Tensor3D, tf.clone(exchangedY) as tf.Tensor3D];
      }
      return out as unknown as tf.TensorContainer;
    }) as unknown as FuserOutput;
  }
}
