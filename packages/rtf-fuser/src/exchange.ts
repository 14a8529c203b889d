import * as tf from '@tensorflow/tfjs-core';
import { FuserError, shapeText } from './errors.js';
import { type SelectChannelsOptions, selectChannels } from './selection.js';

/**
 * A (B, 1, C) float 0/1 tensor with ones at each sample's selected channels. Multiplying it in
 * (rather than gathering / scattering channels) keeps the blend's gradient exact and needs no
 * gather gradient, which the wasm backend lacks.
 *
 * @example
 * selectionMask([Int32Array.from([0, 2])], 4); // [[[1, 0, 1, 0]]]
 */
export function selectionMask(selected: ArrayLike<ArrayLike<number>>, channels: number): tf.Tensor3D {
  const B = selected.length;
  const m = new Float32Array(B * channels);
  for (let b = 0; b < B; b++) {
    const row = selected[b]!;
    for (let i = 0; i < row.length; i++) {
      const c = row[i]!;
      if (!(Number.isInteger(c) && c >= 0 && c < channels)) {
        throw new FuserError({ field: `selected[${b}][${i}]`, expected: `a channel index in [0, ${channels})`, found: String(c) });
      }
      m[b * channels + c] = 1;
    }
  }
  return tf.tensor3d(m, [B, 1, channels]);
}

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
  /** For `bn-gamma`: |gamma| of X's and of Y's BatchNorm. */
  gammaX?: ArrayLike<number>;
  gammaY?: ArrayLike<number>;
  mode?: ExchangeMode;
}

/** What `exchangeTokens` returns; the tensors belong to the caller. */
export interface ExchangeResult {
  exchangedX: tf.Tensor3D;
  exchangedY: tf.Tensor3D;
  /** Per sample, X's exchanged channels in ascending score order. */
  selectedX: Int32Array[];
  selectedY: Int32Array[];
}

/**
 * The rank-enhancing exchange on its own (no BatchNorm, no cross-modal block): select each
 * modality's k lowest-scoring channels per sample and blend them with the partner's. `alpha` is
 * the effective blend weight a (C), already through any parametrisation.
 *
 * @example
 * const out = exchangeTokens(rgb, depth, alpha, { selection: 'variance', ratio: 0.3, lengths });
 * out.exchangedX.print(); out.exchangedX.dispose(); out.exchangedY.dispose();
 */
export function exchangeTokens(
  x: tf.Tensor3D,
  y: tf.Tensor3D,
  alpha: tf.Tensor1D | ArrayLike<number> | null,
  options: ExchangeTokensOptions,
): ExchangeResult {
  if (x.rank !== 3) throw new FuserError({ field: 'x', expected: 'shape (B, T, C)', found: shapeText(x.shape) });
  const C = x.shape[2];
  const selectedX = selectChannels(x, { ...options, gamma: options.gammaX });
  const selectedY = selectChannels(y, { ...options, gamma: options.gammaY });
  const { exchangedX, exchangedY } = tf.tidy(() => {
    const a = alpha == null ? null : alpha instanceof tf.Tensor ? alpha : tf.tensor1d(Array.from(alpha));
    if (a != null && (a.rank !== 1 || a.shape[0] !== C)) {
      throw new FuserError({ field: 'alpha', expected: `shape [${C}]`, found: shapeText(a.shape) });
    }
    return blendChannels(x, y, a, selectionMask(selectedX, C), selectionMask(selectedY, C), options.mode ?? 'blend');
  });
  return { exchangedX: exchangedX as tf.Tensor3D, exchangedY: exchangedY as tf.Tensor3D, selectedX, selectedY };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
