import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetFormatError } from '../errors.js';
import { decodeDepthPng } from '../modalities/image.js';
import type { FrameSize } from '../modalities/resize.js';
import { listDir, numberedFiles, readFile } from '../node/files.js';
import { readFeatureNpy, readRgbFrame } from '../node/readers.js';
import { frameModality, type FrameModality, type Sequence } from '../sequence.js';
import { streamSequences } from '../stream.js';
import { SequenceChecker } from '../validate.js';
import { parseSampleName, readSkeleton, skeletonToFrames, type NtuSampleName } from './skeleton.js';

/** Where an NTU RGB+D copy keeps each modality, and how to prepare frames. */
export interface NtuOptions {
  /** Masked depth: `<depthDir>/<name>/MDepth-%08d.png` (1-based). */
  depthDir?: string;
  /** Skeletons: `<skeletonDir>/<name>.skeleton`. */
  skeletonDir?: string;
  /** Extracted RGB frames: `<rgbFramesDir>/<name>/frame_%04d.png` (0-based). */
  rgbFramesDir?: string;
  /** Precomputed per-frame RGB features: `<rgbFeaturesDir>/<name>.npy` of shape (T, D). */
  rgbFeaturesDir?: string;
  /** Depth frame size after the bilinear resize (default 224 x 224, as R3D uses for NTU). */
  depthSize?: FrameSize;
  /** RGB frame size after the resize (default 112 x 112). */
  rgbSize?: FrameSize;
  /** Keeps only the samples this returns true for (e.g. a cross-subject split). */
  filter?: (sample: NtuSampleName) => boolean;
}

/** NTU 60 cross-subject training performers (the standard protocol). */
export const NTU_CROSS_SUBJECT_TRAIN = [1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38] as const;

/**
 * NTU RGB+D as sequences: one action per sample, so every frame is labelled `action - 1`.
 * Frames are the masked-depth frames when a depth folder is given (else the skeleton frames);
 * other modalities must have as many frames or a `DatasetFormatError` names the mismatch.
 *
 * @example
 * const ntu = new NtuDataset({ depthDir: 'nturgb+d_depth_masked', skeletonDir: 'nturgb+d_skeletons' });
 * for await (const seq of ntu.sequences()) console.log(seq.id, seq.frames, seq.labels[0]);
 */
export class NtuDataset {
  readonly classNames: string[] = Array.from({ length: 120 }, (_, i) => `A${String(i + 1).padStart(3, '0')}`);
  private readonly checker = new SequenceChecker();

  constructor(private readonly options: NtuOptions) {
    if (!options.depthDir && !options.skeletonDir) throw new TypeError('NtuDataset: give depthDir or skeletonDir');
  }

  /** Sample names found (sorted), after the filter. */
  samples(): NtuSampleName[] {
    const { depthDir, skeletonDir, filter } = this.options;
    const names = depthDir
      ? listDir(depthDir).filter((n) => /^S\d{3}C\d{3}P\d{3}R\d{3}A\d{3}$/.test(n))
      : listDir(skeletonDir!).filter((n) => /^S\d{3}C\d{3}P\d{3}R\d{3}A\d{3}\.skeleton$/.test(n)).map((n) => n.slice(0, 20));
    return names.sort().map(parseSampleName).filter((s) => (filter ? filter(s) : true));
  }

  /** Loads one sample. */
  load(sample: NtuSampleName | string): Sequence {
    const s = typeof sample === 'string' ? parseSampleName(sample) : sample;
    const o = this.options;
    const modalities: Record<string, FrameModality> = {};
    const sources: Record<string, string> = {};
    let frames: number | undefined;
    const setFrames = (n: number, what: string, file: string) => {
      if (frames == null) frames = n;
      else if (frames !== n) throw new DatasetFormatError({ file, offset: 0, expected: `${frames} frames like the other modalities of ${s.name}`, found: `${n} ${what} frames` });
    };
    if (o.depthDir) {
      const dir = join(o.depthDir, s.name);
      const files = numberedFiles(dir, /^MDepth-(\d{8})\.png$/);
      if (files.length === 0) throw new DatasetFormatError({ file: dir, expected: 'masked depth frames MDepth-%08d.png (1-based)', found: 'none' });
      const size = o.depthSize ?? { height: 224, width: 224 };
      const data = new Float32Array(files.length * size.height * size.width);
      files.forEach((f, t) => {
        const p = join(dir, f.name);
        data.set(decodeDepthPng(readFile(p), { size, normalise: true }, p).data, t * size.height * size.width);
      });
      setFrames(files.length, 'depth', dir);
      sources.depth = dir;
      modalities.depth = frameModality(files.length, size.height * size.width, data, [size.height, size.width]);
    }
    if (o.skeletonDir) {
      const p = join(o.skeletonDir, `${s.name}.skeleton`);
      if (existsSync(p) || !o.depthDir) {
        const sk = skeletonToFrames(readSkeleton(p));
        const n = sk.data.length / sk.dim;
        setFrames(n, 'skeleton', p);
        sources.skeleton = p;
        modalities.skeleton = frameModality(n, sk.dim, sk.data);
      }
    }
    if (o.rgbFeaturesDir) {
      const p = join(o.rgbFeaturesDir, `${s.name}.npy`);
      const f = readFeatureNpy(p);
      setFrames(f.frames, 'RGB feature', p);
      sources.rgb = p;
      modalities.rgb = frameModality(f.frames, f.dim, f.data);
    } else if (o.rgbFramesDir) {
      const dir = join(o.rgbFramesDir, s.name);
      const files = numberedFiles(dir, /^frame_(\d{4,})\.(?:png|jpg)$/);
      const size = o.rgbSize ?? { height: 112, width: 112 };
      const dim = size.height * size.width * 3;
      const data = new Float32Array(files.length * dim);
      files.forEach((f, t) => data.set(readRgbFrame(join(dir, f.name), size).data, t * dim));
      setFrames(files.length, 'RGB', dir);
      sources.rgb = dir;
      modalities.rgb = frameModality(files.length, dim, data, [size.height, size.width, 3]);
    }
    const n = frames ?? 0;
    const first = sources.depth ?? sources.skeleton ?? sources.rgb ?? s.name;
    return this.checker.check({ id: s.name, frames: n, labels: new Int32Array(n).fill(s.action - 1), modalities, meta: { ...s } }, { labels: first, modalities: sources });
  }

  /** Streams every sample, one loaded at a time. */
  sequences(): AsyncGenerator<Sequence> {
    return streamSequences(this.samples(), (s) => this.load(s));
  }
}
