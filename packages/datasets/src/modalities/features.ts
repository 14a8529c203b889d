import { NpyFormatError, type NpyArray } from '@r3d-ts/tensor-io';
import { readNpy } from '@r3d-ts/tensor-io/node';
import { DatasetFormatError } from '../errors.js';
import { prepareDepthFrames, type FrameSize } from './image.js';

/**
 * Reads per-frame features (`.npy` of shape (T, D) or (T, ...) flattened per frame, any D):
 * the RGB modality of the FUTR layout. Non-finite values are rejected.
 *
 * @example
 * const rgb = readFeatureNpy('features/video1.npy'); // { frames: T, dim: 2048, data }
 */
export function readFeatureNpy(path: string, frames?: number): { dim: number; data: Float32Array; frames: number } {
  const arr = readNpyFile(path);
  return featuresFromNpy(arr, path, frames);
}

/** Converts a parsed `.npy` to per-frame Float32 features; see `readFeatureNpy`. */
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
 * Reads a depth volume from `.npy` of shape (T, H, W) or (T, 1, H, W) (the FUTR `features_depth`
 * layout), min-max normalises every frame to [0, 1] and resizes it bilinearly to `size`.
 *
 * @example
 * const depth = readDepthNpy('features_depth/video1.npy', { height: 120, width: 160 }); // dim 19200
 */
export function readDepthNpy(path: string, size?: FrameSize, frames?: number): { dim: number; data: Float32Array; frames: number; shape: number[] } {
  const arr = readNpyFile(path);
  const s = arr.shape;
  const ok = s.length === 3 || (s.length === 4 && s[1] === 1);
  if (!ok) throw new DatasetFormatError({ file: path, offset: 0, expected: 'depth of shape (T, H, W) or (T, 1, H, W)', found: `(${s.join(', ')})` });
  const t = s[0]!;
  const h = s[s.length - 2]!;
  const w = s[s.length - 1]!;
  if (frames != null && t !== frames) throw new DatasetFormatError({ file: path, offset: 0, expected: `${frames} depth frames`, found: `${t}` });
  const { data: raw } = featuresFromNpy(arr, path);
  const data = prepareDepthFrames(raw, t, h, w, size);
  const oh = size?.height ?? h;
  const ow = size?.width ?? w;
  return { dim: oh * ow, data, frames: t, shape: [oh, ow] };
}

// Every loader of this package throws DatasetFormatError on a bad file, so tensor-io's npy error
// is re-thrown as one with the same file, offset, expectation and finding.
function readNpyFile(path: string): NpyArray {
  try {
    return readNpy(path);
  } catch (err) {
    if (!(err instanceof NpyFormatError)) throw err;
    throw new DatasetFormatError({ file: err.file, expected: err.expected, cause: err, ...(err.offset != null ? { offset: err.offset } : {}), ...(err.found != null ? { found: err.found } : {}) });
  }
}
