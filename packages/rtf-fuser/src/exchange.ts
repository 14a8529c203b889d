import * as tf from '@tensorflow/tfjs-core';
import { FuserError, shapeText } from './errors.js';
import { type SelectChannelsOptions, selectChannels } from './selection.js';

/** How a selected channel takes its partner's value: RTF's learned blend or CEN's hard swap. */
export type ExchangeMode = 'blend' | 'swap';

/**
 * The exchange step on tokens whose channels are already chosen. Both directions read the
 * pre-exchange tensors and share one blend weight per channel:
 * X'[:, :, c] = a_c X + (1 - a_c) Y for c in Sel(X), Y'[:, :, c] = a_c Y + (1 - a_c) X for c in Sel(Y);
 * with `mode: 'swap'` a selected channel is replaced by the partner's (a = 0, CEN-style).
 * Unselected channels pass through exactly. Gradients reach `alpha`, `x` and `y`.
 *
 * @example
 * const { exchangedX, exchangedY } = blendChannels(x, y, alpha, selectionMask(selX, 128), selectionMask(selY, 128));
 */
export function blendChannels(
  x: tf.Tensor,
  y: tf.Tensor,
  alpha: tf.Tensor | null,
  maskX: tf.Tensor,
  maskY: tf.Tensor,
  mode: ExchangeMode = 'blend',
): { exchangedX: tf.Tensor; exchangedY: tf.Tensor } {
  if (!sameShape(x.shape, y.shape)) {
    throw new FuserError({ field: 'y', expected: `the shape of x ${shapeText(x.shape)}`, found: shapeText(y.shape) });
  }
  return tf.tidy(() => {
    if (mode === 'swap') {
      const keepX = tf.sub(1, maskX);
      const keepY = tf.sub(1, maskY);
      return {
        exchangedX: tf.add(tf.mul(keepX, x), tf.mul(maskX, y)),
        exchangedY: tf.add(tf.mul(keepY, y), tf.mul(maskY, x)),
      };
    }
    if (alpha == null) throw new FuserError({ field: 'alpha', expected: 'a (C) blend weight for mode blend', found: 'none' });
    const a = alpha;
    const oneMinusA = tf.sub(1, a);
    const blendX = tf.add(tf.mul(a, x), tf.mul(oneMinusA, y));
    const blendY = tf.add(tf.mul(a, y), tf.mul(oneMinusA, x));
    return {
      exchangedX: tf.add(tf.mul(maskX, blendX), tf.mul(tf.sub(1, maskX), x)),
      exchangedY: tf.add(tf.mul(maskY, blendY), tf.mul(tf.sub(1, maskY), y)),
    };
  });
}

/** Options of `exchangeTokens`: the selection for both modalities, plus per-modality gammas. */
export interface ExchangeTokensOptions extends Omit<SelectChannelsOptions, 'gamma'> {
  /** For `bn-gamma`: the gamma of X's and of Y's BatchNorm (scored by |gamma|). */
  gammaX?: tf.Tensor | ArrayLike<number>;
  gammaY?: tf.Tensor | ArrayLike<number>;
  mode?: ExchangeMode;
}

/** What `exchangeTokens` returns; the tensors belong to the caller (`tf.dispose(result)`). */
// a type, not an interface, so that it is a tf.TensorContainer (tf.dispose, tf.tidy)
export type ExchangeResult = {
  exchangedX: tf.Tensor3D;
  exchangedY: tf.Tensor3D;
  /** (B, k) int32: per sample, X's exchanged channels in ascending score order. */
  selectedX: tf.Tensor2D;
  selectedY: tf.Tensor2D;
};

/**
 * The rank-enhancing exchange on its own (no BatchNorm, no cross-modal block): select each
 * modality's k lowest-scoring channels per sample and blend them with the partner's. `alpha` is
 * the effective blend weight a (C), already through any parametrisation. Tensor ops only: nothing
 * is read back.
 *
 * @example
 * const out = exchangeTokens(rgb, depth, alpha, { selection: 'variance', ratio: 0.3, lengths });
 * out.exchangedX.print(); tf.dispose(out);
 */
export function exchangeTokens(
  x: tf.Tensor3D,
  y: tf.Tensor3D,
  alpha: tf.Tensor1D | ArrayLike<number> | null,
  options: ExchangeTokensOptions,
): ExchangeResult {
  if (x.rank !== 3) throw new FuserError({ field: 'x', expected: 'shape (B, T, C)', found: shapeText(x.shape) });
  const C = x.shape[2];
  const a = alpha == null ? null : alpha instanceof tf.Tensor ? alpha : tf.tensor1d(Array.from(alpha));
  try {
    if (a != null && (a.rank !== 1 || a.shape[0] !== C)) {
      throw new FuserError({ field: 'alpha', expected: `shape [${C}]`, found: shapeText(a.shape) });
    }
    const { gammaX, gammaY, mode, ...common } = options;
    const selX = selectChannels(x, { ...common, ...(gammaX != null ? { gamma: gammaX } : {}) });
    const selY = selectChannels(y, { ...common, ...(gammaY != null ? { gamma: gammaY } : {}) });
    const { exchangedX, exchangedY } = blendChannels(x, y, a, selX.mask, selY.mask, mode ?? 'blend');
    tf.dispose([selX.mask, selY.mask]);
    return { exchangedX: exchangedX as tf.Tensor3D, exchangedY: exchangedY as tf.Tensor3D, selectedX: selX.indices, selectedY: selY.indices };
  } finally {
    if (a !== alpha) a?.dispose();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
