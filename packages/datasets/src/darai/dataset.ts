import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetFormatError } from '../errors.js';
import { decodeDepthPng } from '../modalities/image.js';
import type { FrameSize } from '../modalities/resize.js';
import { listDir, numberedFiles, readFile } from '../node/files.js';
import { readRgbFrame, readTimeSeriesCsv } from '../node/readers.js';
import { encodePhrases, HashedNgramEncoder, phrasesFromLabels, type PhraseEncoder } from '../modalities/text.js';
import { normaliseChannels, resampleToTimes } from '../modalities/timeseries.js';
import { frameModality, type FrameModality, type Sequence } from '../sequence.js';
import { streamSequences } from '../stream.js';
import { SequenceChecker } from '../validate.js';
import { daraiSplit, labelSegments, parseAnnotationCsv, parseAnnotationFileName, type DaraiRecordingName } from './annotations.js';

/** Where a DARai copy keeps each modality, and how to prepare them. */
export interface DaraiOptions {
  root: string;
  /** Folder names under `root` (defaults: `RGB`, `Depth`, `Annotations`, `IMU`). */
  rgbDir?: string;
  depthDir?: string;
  annotationsDir?: string;
  imuDir?: string;
  /** Camera view k: RGB `camera_k_fps_15` pairs with `depth_k` (default 1). */
  view?: 1 | 2;
  /** Label level for `labels` (2 = action, 3 = procedure; default 2). */
  level?: 2 | 3;
  modalities?: ('rgb' | 'depth' | 'text' | 'imu')[];
  /** Class names of the chosen level; default: every activity in the annotation files, sorted. */
  classNames?: string[];
  rgbSize?: FrameSize;
  depthSize?: FrameSize;
  /** Text: an encoder (default hashed n-grams, 128-d) and the phrase template. */
  textEncoder?: PhraseEncoder;
  textTemplate?: (action: string, activity: string) => string;
  /** IMU alignment: video fps (15) and CSV time units per second (1 = seconds, 1000 = ms). */
  fps?: number;
  imuTimeUnitsPerSecond?: number;
  split?: 'train' | 'val' | 'test';
}

interface Recording extends DaraiRecordingName {
  annotationFile: string;
}

/**
 * DARai as sequences, one per (activity, subject, session) with an annotation file of the chosen
 * level. Frames are the frame numbers present for the requested image modalities (camera k and
 * depth k intersected), labels come from the annotation ranges (which are taken to use the same
 * frame numbers as the file names), text is "<L2 action> for <L1 activity>" per frame, and IMU
 * rows are linearly interpolated at the frame times and z-scored per channel.
 *
 * @example
 * const darai = new DaraiDataset({ root: 'DARai', modalities: ['rgb', 'depth'], split: 'train' });
 * for await (const seq of darai.sequences()) console.log(seq.id, seq.frames);
 */
export class DaraiDataset {
  private recs?: Recording[];
  private names?: string[];
  private readonly checker = new SequenceChecker();

  constructor(private readonly options: DaraiOptions) {}

  private dir(key: 'rgbDir' | 'depthDir' | 'annotationsDir' | 'imuDir', dflt: string): string {
    return join(this.options.root, this.options[key] ?? dflt);
  }

  /** Every recording with an annotation file of the chosen level, in every split. */
  private allRecordings(): Recording[] {
    if (!this.recs) {
      const level = this.options.level ?? 2;
      const found: Recording[] = [];
      const walk = (dir: string, depth: number) => {
        for (const name of listDir(dir).sort()) {
          const p = join(dir, name);
          if (depth < 4 && statSync(p).isDirectory()) walk(p, depth + 1);
          else {
            const r = parseAnnotationFileName(name);
            if (r && r.level === level) found.push({ ...r, annotationFile: p });
          }
        }
      };
      walk(this.dir('annotationsDir', 'Annotations'), 0);
      this.recs = found;
    }
    return this.recs;
  }

  /** The recordings of the chosen split (all when no split is set). */
  recordings(): Recording[] {
    const split = this.options.split;
    return this.allRecordings().filter((r) => !split || daraiSplit(r.subject) === split);
  }

  /** Class names of the chosen level: given, or gathered from every split's annotation files so indices agree. */
  classNames(): string[] {
    if (this.options.classNames) return this.options.classNames;
    if (!this.names) {
      const all = new Set<string>();
      for (const r of this.allRecordings()) {
        for (const s of parseAnnotationCsv(new TextDecoder().decode(readFile(r.annotationFile)), r.annotationFile)) all.add(s.activity);
      }
      this.names = [...all].sort();
    }
    return this.names;
  }

  async load(rec: Recording): Promise<Sequence> {
    const o = this.options;
    const view = o.view ?? 1;
    const mods = o.modalities ?? ['rgb', 'depth'];
    const pattern = /^(\d+)_(\d+)_(\d+)\.(?:jpe?g|png)$/;
    const mine = (dir: string) =>
      numberedFiles(dir, /^\d+_\d+_(\d+)\.(?:jpe?g|png)$/).filter((f) => {
        const m = pattern.exec(f.name)!;
        return Number(m[1]) === rec.subject && Number(m[2]) === rec.session;
      });
    const rgbDir = join(this.dir('rgbDir', 'RGB'), rec.activity, `camera_${view}_fps_15`);
    const depthDir = join(this.dir('depthDir', 'Depth'), rec.activity, `depth_${view}`);
    const rgbFiles = mods.includes('rgb') ? mine(rgbDir) : undefined;
    const depthFiles = mods.includes('depth') || !rgbFiles ? mine(depthDir) : undefined;
    let numbers = (rgbFiles ?? depthFiles!).map((f) => f.n);
    if (rgbFiles && depthFiles) {
      const inDepth = new Set(depthFiles.map((f) => f.n));
      numbers = numbers.filter((n) => inDepth.has(n));
    }
    const T = numbers.length;
    const id = `${rec.activity}_S${String(rec.subject).padStart(2, '0')}_session${String(rec.session).padStart(2, '0')}`;
    if (T === 0) throw new DatasetFormatError({ file: rgbFiles ? rgbDir : depthDir, expected: `frames <SS>_<session>_<frame:05d>.jpg|png of ${id}`, found: 'none' });
    const classNames = this.classNames();
    const classIndex = new Map(classNames.map((c, i) => [c, i]));
    const segments = parseAnnotationCsv(new TextDecoder().decode(readFile(rec.annotationFile)), rec.annotationFile);
    const labels = labelSegments(segments, numbers, classIndex, rec.annotationFile);
    const modalities: Record<string, FrameModality> = {};
    const sources: Record<string, string> = { rgb: rgbDir, depth: depthDir, text: rec.annotationFile };
    if (rgbFiles && mods.includes('rgb')) {
      const size = o.rgbSize ?? { height: 120, width: 160 };
      const byN = new Map(rgbFiles.map((f) => [f.n, f.name]));
      const dim = size.height * size.width * 3;
      const data = new Float32Array(T * dim);
      numbers.forEach((n, t) => data.set(readRgbFrame(join(rgbDir, byN.get(n)!), size).data, t * dim));
      modalities.rgb = frameModality(T, dim, data, [size.height, size.width, 3]);
    }
    if (depthFiles && mods.includes('depth')) {
      const size = o.depthSize ?? { height: 120, width: 160 };
      const byN = new Map(depthFiles.map((f) => [f.n, f.name]));
      const dim = size.height * size.width;
      const data = new Float32Array(T * dim);
      numbers.forEach((n, t) => {
        const p = join(depthDir, byN.get(n)!);
        data.set(decodeDepthPng(readFile(p), { size, normalise: true }, p).data, t * dim);
      });
      modalities.depth = frameModality(T, dim, data, [size.height, size.width]);
    }
    if (mods.includes('text')) {
      const template = o.textTemplate ?? ((a: string, l1: string) => `${a} for ${l1}`);
      const phrases = phrasesFromLabels(labels, classNames, (a) => template(a, rec.activity));
      const enc = await encodePhrases(phrases, o.textEncoder ?? new HashedNgramEncoder({ dim: 128 }));
      modalities.text = frameModality(T, enc.dim, enc.data);
    }
    if (mods.includes('imu')) {
      const p = join(this.dir('imuDir', 'IMU'), rec.activity, `${String(rec.subject).padStart(2, '0')}_${rec.session}.csv`);
      const alt = join(this.dir('imuDir', 'IMU'), rec.activity, `${String(rec.subject).padStart(2, '0')}_${String(rec.session).padStart(2, '0')}.csv`);
      const imuFile = existsSync(p) ? p : alt;
      sources.imu = imuFile;
      const series = readTimeSeriesCsv(imuFile);
      const k = o.imuTimeUnitsPerSecond ?? 1;
      const fps = o.fps ?? 15;
      const times = numbers.map((n) => series.times[0]! + ((n - numbers[0]!) / fps) * k);
      const data = normaliseChannels(resampleToTimes(series, times), series.channels, 'zscore');
      modalities.imu = frameModality(T, series.channels, data);
    }
    return this.checker.check({ id, frames: T, labels, modalities, meta: { ...rec, split: daraiSplit(rec.subject), frameNumbers: numbers } }, { labels: rec.annotationFile, modalities: sources });
  }

  sequences(): AsyncGenerator<Sequence> {
    return streamSequences(this.recordings(), (r) => this.load(r));
  }
}
