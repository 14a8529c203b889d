import { DatasetFormatError } from '../errors.js';
import { prepareDepthFrames, type FrameSize } from './resize.js';

/**
 * Per-frame Float32 features from a parsed `.npy` (`parseNpy` of `@r3d-ts/tensor-io`) of shape
 * (T, D) or (T, ...) flattened per frame, any D: the RGB modality of the FUTR layout. Non-finite
 * values are rejected; `frames`, when given, must equal T. `readFeatureNpy` of `./node` reads the
 * file.
 *
 * @example
 * const rgb = featuresFromNpy(parseNpy(bytes, 'video1.npy'), 'video1.npy'); // { frames: T, dim: 2048, data }
 */
export function featuresFromNpy(arr: { shape: number[]; data: ArrayLike<number | bigint> }, file: string, frames?: number): { dim: number; data: Float32Array; frames: number } {
  // a 1-D array is ambiguous (T frames of one value, or one frame of T values): the model would fail far from the file
  if (arr.shape.length < 2) throw new DatasetFormatError({ file, offset: 0, expected: 'an array of shape (T, D) with one row per frame', found: arr.shape.length === 0 ? 'a scalar' : `a 1-D array of shape (${arr.shape[0]})` });
  const t = arr.shape[0]!;
  const dim = arr.shape.slice(1).reduce((a, b) => a * b, 1);
  if (dim === 0) throw new DatasetFormatError({ file, offset: 0, expected: 'at least one feature value per frame', found: `shape (${arr.shape.join(', ')})` });
  if (frames != null && t !== frames) throw new DatasetFormatError({ file, offset: 0, expected: `${frames} frames (rows)`, found: `${t}` });
  const data = new Float32Array(t * dim);
  for (let i = 0; i < data.length; i++) {
    const v = Number(arr.data[i]);
    if (!Number.isFinite(v)) throw new DatasetFormatError({ file, offset: 0, expected: 'finite feature values', found: `${v} at frame ${Math.floor(i / dim)}` });
    data[i] = v;
  }
  return { dim, data, frames: t };
}

/**
 * A depth volume from a parsed `.npy` of shape (T, H, W) or (T, 1, H, W) (the FUTR
 * `features_depth` layout): every frame min-max normalised to [0, 1] and resized bilinearly to
 * `size`. `readDepthNpy` of `./node` reads the file.
 *
 * @example
 * const depth = depthFromNpy(parseNpy(bytes, 'video1.npy'), 'video1.npy', { height: 120, width: 160 }); // dim 19200
 */
export function depthFromNpy(arr: { shape: number[]; data: ArrayLike<number | bigint> }, file: string, size?: FrameSize, frames?: number): { dim: number; data: Float32Array; frames: number; shape: number[] } {
  const s = arr.shape;
  const ok = s.length === 3 || (s.length === 4 && s[1] === 1);
  if (!ok) throw new DatasetFormatError({ file, offset: 0, expected: 'depth of shape (T, H, W) or (T, 1, H, W)', found: `(${s.join(', ')})` });
  const t = s[0]!;
  const h = s[s.length - 2]!;
  const w = s[s.length - 1]!;
  if (frames != null && t !== frames) throw new DatasetFormatError({ file, offset: 0, expected: `${frames} depth frames`, found: `${t}` });
  const { data: raw } = featuresFromNpy(arr, file);
  const data = prepareDepthFrames(raw, t, h, w, size);
  const oh = size?.height ?? h;
  const ow = size?.width ?? w;
  return { dim: oh * ow, data, frames: t, shape: [oh, ow] };
}
