import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetFormatError } from '../errors.js';
import type { FrameSize } from '../modalities/resize.js';
import { listDir, readFile } from '../node/files.js';
import { readDepthNpy, readFeatureNpy } from '../node/readers.js';
import { encodePhrases, HashedNgramEncoder, phrasesFromLabels, type PhraseEncoder } from '../modalities/text.js';
import { frameModality, type FrameModality, type Sequence } from '../sequence.js';
import { streamSequences } from '../stream.js';
import { DropCounter, SequenceChecker } from '../validate.js';
import { labelIndices, parseGroundTruth, parseMapping, parseSplit } from './layout.js';

/** Modalities a FUTR-layout folder can hold (see `FUTR_FOLDERS`). */
export type FutrModality = 'rgb' | 'depth' | 'imu' | 'text';

/** Folder of each modality's `<video>.npy` files under the dataset root. */
export const FUTR_FOLDERS: Readonly<Record<FutrModality, string>> = { rgb: 'features', depth: 'features_depth', imu: 'features_imu', text: 'features_text' };

/** Options of the FUTR / action-segmentation layout reader. */
export interface FutrOptions {
  root: string;
  /** Mapping file under `root` (default `mapping.txt`; R3D: `mapping_l2_changed.txt`). */
  mapping?: string;
  /** Split file under `root/splits` (e.g. `train.split1.bundle`); default: every groundTruth file. */
  split?: string;
  /** Which label column to use from "<path>,<L2>,<L3>" lines (default 'l2'). */
  level?: 'l2' | 'l3';
  /**
   * Modalities to read (default `['rgb']`): `rgb` from `features/`, `depth` from `features_depth/`,
   * `imu` from `features_imu/`, `text` from `features_text/` when that folder exists, else
   * phrases derived from the labels (`textTemplate`) encoded with `textEncoder`.
   */
  modalities?: FutrModality[];
  /** Depth frame size after the bilinear resize (default: the stored size). */
  depthSize?: FrameSize;
  textEncoder?: PhraseEncoder;
  textTemplate?: (action: string) => string;
  /**
   * When features and labels disagree in length: 'truncate' to the shorter (default; the
   * extraction often drops a last frame, and `meta.truncatedFrom` records it) or 'error'.
   */
  lengthMismatch?: 'truncate' | 'error';
  /** Receives the one line that counts truncated videos when `sequences()` ends (default `process.emitWarning`). */
  warn?: (message: string) => void;
  /** Checks each video (see `SequenceChecker`); pass one to the readers of every split so widths agree across splits too. */
  checker?: SequenceChecker;
}

/**
 * The intermediate layout R3D trains on: `features/<video>.npy` (T, D), optional
 * `features_depth/<video>.npy` (T, H, W), `features_imu/<video>.npy` (T, C) (IMU resampled to
 * the frame times) and `features_text/<video>.npy` (T, E) (per-frame text embeddings, used
 * instead of phrases derived from the labels when the folder exists), `groundTruth/<video>.txt`,
 * `mapping.txt`, `splits/*`. Streams
 * one sequence at a time, so memory stays bounded by one video whatever the dataset size.
 *
 * @example
 * const ds = new FutrDataset({ root: 'data/darai', mapping: 'mapping_l2_changed.txt', split: 'train.split1.bundle' });
 * for await (const seq of ds.sequences()) console.log(seq.id, seq.frames, seq.modalities.rgb!.dim);
 */
export class FutrDataset {
  private map?: { names: string[]; index: Map<string, number> };
  private storedText?: boolean;
  private readonly checker: SequenceChecker;
  private readonly truncated: DropCounter;

  constructor(private readonly options: FutrOptions) {
    this.checker = options.checker ?? new SequenceChecker();
    this.truncated = new DropCounter(options.root, 'videos truncated to their shortest modality', 'frames');
  }

  get classNames(): string[] {
    return this.mapping().names;
  }

  /** Whether per-frame text embeddings are stored (`features_text/`), rather than derived from the labels. */
  hasStoredText(): boolean {
    this.storedText ??= existsSync(join(this.options.root, FUTR_FOLDERS.text));
    return this.storedText;
  }

  private mapping(): { names: string[]; index: Map<string, number> } {
    if (!this.map) {
      const p = join(this.options.root, this.options.mapping ?? 'mapping.txt');
      this.map = parseMapping(new TextDecoder().decode(readFile(p)), p);
    }
    return this.map;
  }

  /** Video ids of the split (or of every groundTruth file, sorted). */
  ids(): string[] {
    const { root, split } = this.options;
    if (split) return parseSplit(new TextDecoder().decode(readFile(join(root, 'splits', split))));
    return listDir(join(root, 'groundTruth')).filter((n) => n.endsWith('.txt')).map((n) => n.slice(0, -4)).sort();
  }

  async load(id: string): Promise<Sequence> {
    const o = this.options;
    const gtPath = join(o.root, 'groundTruth', `${id}.txt`);
    const gt = parseGroundTruth(new TextDecoder().decode(readFile(gtPath)), gtPath);
    const names = o.level === 'l3' ? gt.l3 : gt.l2;
    if (!names) throw new DatasetFormatError({ file: gtPath, line: 1, expected: '"<frame path>,<L2>,<L3>" lines for level l3', found: `${gt.format} lines` });
    let labels = labelIndices(names, this.mapping().index, gtPath);
    const mods = o.modalities ?? ['rgb'];
    const loaded: { key: string; frames: number; dim: number; data: Float32Array; shape?: number[]; file: string }[] = [];
    if (mods.includes('rgb')) {
      const p = join(o.root, FUTR_FOLDERS.rgb, `${id}.npy`);
      loaded.push({ key: 'rgb', file: p, ...readFeatureNpy(p) });
    }
    if (mods.includes('depth')) {
      const p = join(o.root, FUTR_FOLDERS.depth, `${id}.npy`);
      loaded.push({ key: 'depth', file: p, ...readDepthNpy(p, o.depthSize) });
    }
    if (mods.includes('imu')) {
      const p = join(o.root, FUTR_FOLDERS.imu, `${id}.npy`);
      loaded.push({ key: 'imu', file: p, ...readFeatureNpy(p) });
    }
    // stored embeddings take part in the trimming below like any feature file; derived phrases follow the trimmed labels
    const storedText = mods.includes('text') && this.hasStoredText();
    if (storedText) {
      const p = join(o.root, FUTR_FOLDERS.text, `${id}.npy`);
      loaded.push({ key: 'text', file: p, ...readFeatureNpy(p) });
    }
    let T = labels.length;
    for (const m of loaded) {
      if (m.frames === 0) throw new DatasetFormatError({ file: m.file, offset: 0, expected: `at least one frame (row) for the ${labels.length} labels of ${gtPath}`, found: '0 rows' });
      if (m.frames !== labels.length && o.lengthMismatch === 'error') {
        throw new DatasetFormatError({ file: m.file, offset: 0, expected: `${labels.length} frames like ${gtPath}`, found: `${m.frames}` });
      }
      T = Math.min(T, m.frames);
    }
    const modalities: Record<string, FrameModality> = {};
    for (const m of loaded) modalities[m.key] = frameModality(T, m.dim, m.frames === T ? m.data : m.data.slice(0, T * m.dim), m.shape);
    const truncatedFrom = labels.length !== T || loaded.some((m) => m.frames !== T) ? { labels: labels.length, ...Object.fromEntries(loaded.map((m) => [m.key, m.frames])) } : undefined;
    if (truncatedFrom) {
      const lengths = [`${labels.length} labels`, ...loaded.map((m) => `${m.key} ${m.frames}`)].join(', ');
      this.truncated.add(`${id} (${lengths})`, Math.max(labels.length, ...loaded.map((m) => m.frames)) - T);
    }
    if (labels.length !== T) labels = labels.slice(0, T);
    if (mods.includes('text') && !storedText) {
      const enc = await encodePhrases(phrasesFromLabels(labels, this.classNames, o.textTemplate), o.textEncoder ?? new HashedNgramEncoder({ dim: 128 }));
      modalities.text = frameModality(T, enc.dim, enc.data);
    }
    const sources = { labels: gtPath, modalities: Object.fromEntries(loaded.map((m) => [m.key, m.file])) };
    return this.checker.check({ id, frames: T, labels, modalities, meta: truncatedFrom ? { truncatedFrom } : {} }, sources);
  }

  /**
   * Streams the videos of the split one at a time. Each is checked as it loads (see
   * `SequenceChecker`: frames, labels, and widths that agree with the first video); at the end,
   * one warning counts the videos truncated to their shortest modality.
   */
  async *sequences(): AsyncGenerator<Sequence> {
    const ids = this.ids();
    yield* streamSequences(ids, (id) => this.load(id));
    this.truncated.report(this.options.warn, ids.length);
  }
}

