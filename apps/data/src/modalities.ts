import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetFormatError, encodePhrases, HashedNgramEncoder, resampleToTimes, resizeBilinear, minMaxNormalise, type FrameSize } from '@r3d-ts/datasets';
import { decodeDepthPng, readEmbeddingsNpy, readTimeSeriesCsv } from '@r3d-ts/datasets/node';
import { readDepthXml } from '@r3d-ts/datasets/utkinect';
import { readNpy } from '@r3d-ts/tensor-io/node';
import { expandLabels, type Segment } from './annotations.js';
import { ImportError } from './errors.js';
import { imageFiles } from './sources.js';

const DEPTH_FRAME = /\.(png|npy|xml)$/i;

/**
 * Where a video's depth is under the `--depth` folder: `<id>/` holding frames (PNG, NPY or
 * UTKinect XML), else `<id>.npy`, a (T, H, W) volume; undefined when neither exists.
 *
 * @example
 * depthSource('depth', 'clip-01'); // 'depth/clip-01'
 */
export function depthSource(root: string, id: string): string | undefined {
  const folder = join(root, id);
  if (existsSync(folder) && statSync(folder).isDirectory()) return folder;
  const npy = join(root, `${id}.npy`);
  return existsSync(npy) ? npy : undefined;
}

/** One raw depth frame (first channel of a PNG, an (H, W) NPY, or a UTKinect XML frame). */
function readDepthFrame(path: string): { height: number; width: number; data: Float32Array } {
  const lower = path.toLowerCase();
  if (lower.endsWith('.png')) return decodeDepthPng(readFileSync(path), {}, path);
  if (lower.endsWith('.xml')) return readDepthXml(path);
  const a = readNpy(path);
  const shape = a.shape.filter((d, i) => !(d === 1 && (i === 0 || i === a.shape.length - 1)) || a.shape.length === 2);
  if (shape.length !== 2) throw new DatasetFormatError({ file: path, offset: 0, expected: 'a depth frame of shape (H, W), (1, H, W) or (H, W, 1)', found: `(${a.shape.join(', ')})` });
  return { height: shape[0]!, width: shape[1]!, data: Float32Array.from(a.data as ArrayLike<number>, Number) };
}

/**
 * The depth of one video at the RGB frames: frame i takes the depth frame at the same time,
 * `floor(i * depthFps / fps)` (the last one held past the end), resized bilinearly to `size`
 * and min-max normalised to [0, 1] per frame, as the released R3D preprocessing and the FUTR
 * loader do. Returns T x H x W values. Only the depth frames used are read.
 *
 * @example
 * const depth = depthForFrames('depth/cooking-01', 120, { fps: 15, depthFps: 30, size: { height: 120, width: 160 } });
 */
export function depthForFrames(source: string, frames: number, options: { fps: number; depthFps: number; size: FrameSize }): Float32Array {
  const { height: oh, width: ow } = options.size;
  const out = new Float32Array(frames * oh * ow);
  const pick = (i: number, n: number): number => Math.min(n - 1, Math.floor((i * options.depthFps) / options.fps + 1e-9));
  if (source.toLowerCase().endsWith('.npy') && statSync(source).isFile()) {
    const a = readNpy(source);
    if (a.shape.length !== 3 || a.shape[0]! < 1) throw new DatasetFormatError({ file: source, offset: 0, expected: 'a depth volume of shape (T, H, W)', found: `(${a.shape.join(', ')})` });
    const [n, h, w] = a.shape as [number, number, number];
    const all = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as ArrayLike<number>, Number);
    for (let i = 0; i < frames; i++) {
      const j = pick(i, n);
      const src = all.subarray(j * h * w, (j + 1) * h * w);
      out.set(minMaxNormalise(resizeBilinear(src, h, w, 1, options.size)), i * oh * ow);
    }
    return out;
  }
  const files = imageFiles(source, DEPTH_FRAME);
  if (files.length === 0) throw new ImportError(`${source}: no depth frames (.png, .npy or UTKinect .xml)`);
  let last = -1;
  let frame: Float32Array = new Float32Array(0);
  for (let i = 0; i < frames; i++) {
    const j = pick(i, files.length);
    if (j !== last) {
      const raw = readDepthFrame(join(source, files[j]!));
      frame = minMaxNormalise(resizeBilinear(raw.data, raw.height, raw.width, 1, options.size));
      last = j;
    }
    out.set(frame, i * oh * ow);
  }
  return out;
}

/**
 * A video's IMU (or any sensor) CSV resampled to the frame times by linear interpolation (edge
 * values held outside the log), read with the datasets package's time-series reader: column 0 is
 * the time, the rest are channels. `align: 'start'` takes the log's first timestamp as the video's
 * start; `'zero'` takes its times as already relative to the video's start. `timeScale` converts
 * the time column to seconds (1000 for milliseconds). Returns T x C values and C.
 *
 * @example
 * const { channels, data } = imuForFrames('imu/cooking-01.csv', 120, { fps: 15, timeScale: 1, align: 'start' });
 */
export function imuForFrames(path: string, frames: number, options: { fps: number; timeScale: number; align: 'start' | 'zero' }): { channels: number; data: Float32Array } {
  const series = readTimeSeriesCsv(path);
  const t0 = options.align === 'start' ? series.times[0]! : 0;
  const times = new Float64Array(frames);
  for (let i = 0; i < frames; i++) times[i] = t0 + (i / options.fps) * options.timeScale;
  return { channels: series.channels, data: resampleToTimes(series, times) };
}

/**
 * Per-frame text vectors of a video from its narration segments (`video,start,end,text`, the
 * label file's unit and overlap rule; frames no narration covers get the empty phrase, whose
 * vector is zero), encoded with the datasets package's hashed n-gram encoder.
 *
 * @example
 * const text = await textForFrames(narrations, 120, { unit: 'seconds', fps: 15, dim: 128 });
 */
export async function textForFrames(narrations: readonly Segment[], frames: number, options: { unit: 'seconds' | 'frames'; fps: number; dim: number }): Promise<{ dim: number; data: Float32Array }> {
  const phrases = expandLabels(narrations, frames, { unit: options.unit, fps: options.fps, gapLabel: '' });
  return encodePhrases(phrases, new HashedNgramEncoder({ dim: options.dim }));
}

/**
 * Precomputed per-frame text embeddings of a video (`<video>.npy`, (T, E)); the row count must
 * equal the video's frame count.
 *
 * @example
 * const text = textFromNpy('embeddings/cooking-01.npy', 120);
 */
export function textFromNpy(path: string, frames: number): { dim: number; data: Float32Array } {
  const r = readEmbeddingsNpy(path, frames);
  return { dim: r.dim, data: r.data };
}
