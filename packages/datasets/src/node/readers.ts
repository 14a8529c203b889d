import { NpyFormatError, type NpyArray } from '@r3d-ts/tensor-io';
import { readNpy } from '@r3d-ts/tensor-io/node';
import { DatasetFormatError } from '../errors.js';
import { depthFromNpy, featuresFromNpy } from '../modalities/features.js';
import { decodeRgbFrame } from '../modalities/image.js';
import type { FrameSize } from '../modalities/resize.js';
import { parsePhrases } from '../modalities/text.js';
import { parseTimeSeriesCsv, type TimeSeries } from '../modalities/timeseries.js';
import { readFile } from './files.js';

/**
 * Reads per-frame features from a `.npy` file; see `featuresFromNpy` (the in-memory parser of
 * the main entry).
 *
 * @example
 * const rgb = readFeatureNpy('features/video1.npy'); // { frames: T, dim: 2048, data }
 */
export function readFeatureNpy(path: string, frames?: number): { dim: number; data: Float32Array; frames: number } {
  return featuresFromNpy(readNpyFile(path), path, frames);
}

/**
 * Reads a depth volume from a `.npy` file of shape (T, H, W) or (T, 1, H, W), every frame
 * min-max normalised and resized; see `depthFromNpy`.
 *
 * @example
 * const depth = readDepthNpy('features_depth/video1.npy', { height: 120, width: 160 }); // dim 19200
 */
export function readDepthNpy(path: string, size?: FrameSize, frames?: number): { dim: number; data: Float32Array; frames: number; shape: number[] } {
  return depthFromNpy(readNpyFile(path), path, size, frames);
}

/**
 * Reads precomputed per-frame text embeddings from `.npy` (shape (T, D), any float or int dtype),
 * checking the frame count when given.
 *
 * @example
 * const text = readEmbeddingsNpy('text/video1.npy', seq.frames);
 */
export function readEmbeddingsNpy(path: string, frames?: number): { dim: number; data: Float32Array; frames: number } {
  return readFeatureNpy(path, frames);
}

/**
 * Reads and decodes an RGB frame file (JPEG or PNG) to RGB in [0, 1]; see `decodeRgbFrame`.
 *
 * @example
 * const rgb = readRgbFrame('RGB/s01_e01/colorImg190.jpg', { height: 120, width: 160 });
 */
export function readRgbFrame(path: string, size?: FrameSize): { height: number; width: number; data: Float32Array } {
  return decodeRgbFrame(readFile(path), size, path);
}

/**
 * Reads a user phrase file: one phrase per frame, one per line; see `parsePhrases`. Throws
 * `DatasetFormatError` when the count differs from `frames`.
 *
 * @example
 * const phrases = readPhraseFile('text/video1.txt', seq.frames);
 */
export function readPhraseFile(path: string, frames?: number): string[] {
  return parsePhrases(new TextDecoder().decode(readFile(path)), path, frames);
}

/**
 * Reads a time-series CSV file; see `parseTimeSeriesCsv`.
 *
 * @example
 * const imu = readTimeSeriesCsv('IMU/Making pancake/01_3.csv'); // { header, times, channels, data }
 */
export function readTimeSeriesCsv(path: string): TimeSeries {
  return parseTimeSeriesCsv(new TextDecoder().decode(readFile(path)), path);
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
