import * as tf from '@tensorflow/tfjs-core';
import { exchangeTokens } from '@r3d-ts/rtf-fuser';
import { InputError, type TokenMatrix } from './tensor-files.js';
import type { PairSample } from './workspace.js';

/** The RTF panel's settings: how channels are chosen, how many, and how they blend. */
export interface RtfSettings {
  selection: 'variance' | 'svd-energy';
  /** Exchange ratio: k = floor(ratio * C) channels per modality and sample. */
  ratio: number;
  /** The blend weight a of every channel, when no trained alpha is used. */
  alpha: number;
  /** Use the folder's trained per-channel `alpha.npy` instead of `alpha`. */
  loadedAlpha: boolean;
}

/** The default settings: the authors' demo tensors (variance, 0.3) with a neutral blend. */
export const DEFAULT_RTF: RtfSettings = { selection: 'variance', ratio: 0.3, alpha: 0.5, loadedAlpha: true };

/**
 * A short, stable text of the settings (the page shows it and the tests read it).
 *
 * @example
 * rtfKey({ selection: 'variance', ratio: 0.3, alpha: 0.5, loadedAlpha: false }); // 'variance|0.3|0.5'
 */
export function rtfKey(s: RtfSettings, alpha?: Float32Array): string {
  return `${s.selection}|${s.ratio}|${s.loadedAlpha && alpha ? 'alpha.npy' : s.alpha}`;
}

/** A and B of one sample after the page's exchange, and the channels each gave away. */
export interface Exchanged {
  a: TokenMatrix;
  b: TokenMatrix;
  selectedA: Int32Array;
  selectedB: Int32Array;
}

/**
 * Runs rtf-fuser's `exchangeTokens` on one observation ratio's samples, on whatever tfjs backend
 * the page chose: the samples are zero-padded into one (B, Tmax, C) batch with their lengths (so
 * selection sees only valid frames), exchanged, and cut back to each sample's rows.
 *
 * @example
 * const out = await exchangeSamples(group.samples, { selection: 'variance', ratio: 0.3, alpha: 0.5, loadedAlpha: false });
 */
export async function exchangeSamples(samples: readonly PairSample[], settings: RtfSettings, trainedAlpha?: Float32Array): Promise<Exchanged[]> {
  if (samples.length === 0) return [];
  const C = samples[0]!.a.cols;
  const tMax = Math.max(...samples.map((s) => s.a.rows));
  const x = new Float32Array(samples.length * tMax * C);
  const y = new Float32Array(samples.length * tMax * C);
  samples.forEach((s, i) => {
    if (s.a.cols !== C) throw new InputError(`sequence ${s.seq}`, `${C} channels like the other samples`, `${s.a.cols}`);
    x.set(s.a.data, i * tMax * C);
    y.set(s.b.data, i * tMax * C);
  });
  let alpha: Float32Array;
  if (settings.loadedAlpha && trainedAlpha) {
    if (trainedAlpha.length !== C) throw new InputError('alpha.npy', `${C} values (one per channel)`, `${trainedAlpha.length}`);
    alpha = trainedAlpha;
  } else {
    alpha = new Float32Array(C).fill(settings.alpha);
  }
  const xt = tf.tensor3d(x, [samples.length, tMax, C]);
  const yt = tf.tensor3d(y, [samples.length, tMax, C]);
  try {
    const out = exchangeTokens(xt, yt, alpha, { selection: settings.selection, ratio: settings.ratio, lengths: samples.map((s) => s.a.rows) });
    const [ex, ey, sx, sy] = await Promise.all([out.exchangedX.data(), out.exchangedY.data(), out.selectedX.array(), out.selectedY.array()]);
    tf.dispose(out);
    return samples.map((s, i) => ({
      a: { data: (ex as Float32Array).slice(i * tMax * C, (i * tMax + s.a.rows) * C), rows: s.a.rows, cols: C },
      b: { data: (ey as Float32Array).slice(i * tMax * C, (i * tMax + s.b.rows) * C), rows: s.b.rows, cols: C },
      selectedA: Int32Array.from(sx[i]!),
      selectedB: Int32Array.from(sy[i]!),
    }));
  } finally {
    xt.dispose();
    yt.dispose();
  }
}
