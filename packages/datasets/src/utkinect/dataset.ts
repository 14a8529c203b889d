import { join } from 'node:path';
import { DatasetFormatError } from '../errors.js';
import { minMaxNormalise, resizeBilinear, type FrameSize } from '../modalities/resize.js';
import { numberedFiles, readFile } from '../node/files.js';
import { readRgbFrame } from '../node/readers.js';
import { frameModality, type FrameModality, type Sequence } from '../sequence.js';
import { streamSequences } from '../stream.js';
import { SequenceChecker } from '../validate.js';
import { readDepthXml } from './depth-xml.js';
import { labelFrames, parseActionLabels, UTK_ACTIONS, type UtkSession } from './labels.js';

/** Where a UTKinect-Action3D copy lives and how to prepare frames. */
export interface UtkinectOptions {
  /** Folder holding `RGB/`, `depth/` and `actionLabel.txt`. */
  root: string;
  modalities?: ('rgb' | 'depth')[];
  /** Depth size after the bilinear resize (default 120 x 160). */
  depthSize?: FrameSize;
  /** RGB size after the bilinear resize (default 120 x 160). */
  rgbSize?: FrameSize;
}

/**
 * UTKinect-Action3D as sequences `s01_e01` .. `s10_e02`: frames are the frame numbers N present
 * for every requested modality, sorted numerically (N is not contiguous); labels come from
 * `actionLabel.txt` (first containing range, else UNDEFINED). Depth is min-max normalised per frame.
 *
 * @example
 * const utk = new UtkinectDataset({ root: 'UTKinect', modalities: ['depth'] });
 * for await (const seq of utk.sequences()) console.log(seq.id, seq.frames);
 */
export class UtkinectDataset {
  readonly classNames: string[] = [...UTK_ACTIONS];
  private sessions?: Map<string, UtkSession>;
  private readonly checker = new SequenceChecker();

  constructor(private readonly options: UtkinectOptions) {}

  /** The parsed label file. */
  labels(): Map<string, UtkSession> {
    if (!this.sessions) {
      const p = join(this.options.root, 'actionLabel.txt');
      this.sessions = parseActionLabels(new TextDecoder().decode(readFile(p)), p);
    }
    return this.sessions;
  }

  /** Sequence names in the label file, sorted. */
  ids(): string[] {
    return [...this.labels().keys()].sort();
  }

  load(id: string): Sequence {
    const session = this.labels().get(id);
    if (!session) throw new DatasetFormatError({ file: join(this.options.root, 'actionLabel.txt'), expected: `a session ${id}`, found: 'none' });
    const mods = this.options.modalities ?? ['rgb', 'depth'];
    const rgbDir = join(this.options.root, 'RGB', id);
    const depthDir = join(this.options.root, 'depth', id);
    const rgbFiles = mods.includes('rgb') ? numberedFiles(rgbDir, /^colorImg(\d+)\.jpg$/) : undefined;
    const depthFiles = mods.includes('depth') ? numberedFiles(depthDir, /^depthImg(\d+)\.xml$/) : undefined;
    let numbers = (depthFiles ?? rgbFiles ?? []).map((f) => f.n);
    if (rgbFiles && depthFiles) {
      const inRgb = new Set(rgbFiles.map((f) => f.n));
      numbers = numbers.filter((n) => inRgb.has(n));
    }
    const T = numbers.length;
    if (T === 0) throw new DatasetFormatError({ file: depthFiles ? depthDir : rgbDir, expected: `frames (colorImg<N>.jpg, depthImg<N>.xml) of ${id} present for every requested modality`, found: 'none' });
    const modalities: Record<string, FrameModality> = {};
    if (depthFiles) {
      const size = this.options.depthSize ?? { height: 120, width: 160 };
      const byN = new Map(depthFiles.map((f) => [f.n, f.name]));
      const dim = size.height * size.width;
      const data = new Float32Array(T * dim);
      numbers.forEach((n, t) => {
        const d = readDepthXml(join(depthDir, byN.get(n)!));
        data.set(minMaxNormalise(resizeBilinear(d.data, d.height, d.width, 1, size)), t * dim);
      });
      modalities.depth = frameModality(T, dim, data, [size.height, size.width]);
    }
    if (rgbFiles) {
      const size = this.options.rgbSize ?? { height: 120, width: 160 };
      const byN = new Map(rgbFiles.map((f) => [f.n, f.name]));
      const dim = size.height * size.width * 3;
      const data = new Float32Array(T * dim);
      numbers.forEach((n, t) => data.set(readRgbFrame(join(rgbDir, byN.get(n)!), size).data, t * dim));
      modalities.rgb = frameModality(T, dim, data, [size.height, size.width, 3]);
    }
    const sources = { labels: join(this.options.root, 'actionLabel.txt'), modalities: { rgb: rgbDir, depth: depthDir } };
    return this.checker.check({ id, frames: T, labels: labelFrames(session.ranges, numbers), modalities, meta: { frameNumbers: numbers, absent: session.absent } }, sources);
  }

  sequences(): AsyncGenerator<Sequence> {
    return streamSequences(this.ids(), (id) => this.load(id));
  }
}
