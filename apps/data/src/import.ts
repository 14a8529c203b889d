import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encodePhrases, HashedNgramEncoder } from '@r3d-ts/datasets';
import { readPhraseFile } from '@r3d-ts/datasets/node';
import { encodeNpy } from '@r3d-ts/tensor-io';
import { lockFolder, removeOrphanTemporaries, writeFileAtomic } from '@r3d-ts/tensor-io/node';
import { assignSplits, classList, expandLabels, parseSegments, type Segment } from './annotations.js';
import { ImportError } from './errors.js';
import type { FeatureExtractor } from './extractors.js';
import { depthForFrames, depthSource, imuForFrames, textForFrames, textFromNpy } from './modalities.js';
import { assertFfmpeg, type FrameSource, listRgbInputs, openRgbFrames, type Size } from './sources.js';

/** The split files `import` writes under `splits/` (the FUTR convention the loaders' examples use). */
export const SPLIT_FILES = { train: 'train.split1.bundle', val: 'val.split1.bundle', test: 'test.split1.bundle' } as const;

/** Everything `importDataset` needs. Paths may be relative to the working folder. */
export interface ImportOptions {
  /** Folder of videos and/or frame folders (see `listRgbInputs`). */
  rgb: string;
  /** Segment annotations `video,start,end,label` (see `parseSegments`). */
  labels: string;
  /** Output folder (the FUTR layout root). */
  out: string;
  /** Frames per second the videos are sampled at (frame folders are taken to be at this rate). */
  fps: number;
  /** Unit of the annotation times (default seconds). */
  labelUnit?: 'seconds' | 'frames';
  /** Label of frames no segment covers: `UNDEFINED` (default, not scored) or a class such as `background`. */
  gapLabel?: string;
  /** Train / val / test fractions (default 0.7 / 0.15 / 0.15) and seed (default 1). */
  splitRatios?: [number, number, number];
  splitSeed?: number;
  /** An annotation column (e.g. `subject`) whose values are kept apart by the split. */
  splitBy?: string;
  depth?: { dir: string; fps?: number; size: Size };
  imu?: { dir: string; timeScale?: number; align?: 'start' | 'zero' };
  /**
   * Text: narration segments (`video,start,end,text`) or a folder of per-frame phrase files
   * (`<video>.txt`, one line per frame), encoded; or a folder of precomputed `<video>.npy` embeddings.
   */
  text?: { csv?: string; phrases?: string; npy?: string; dim?: number };
  extractor: FeatureExtractor;
  ffmpeg?: string;
  /** Start over when the folder holds an import with other settings (its outputs are removed). */
  overwrite?: boolean;
  /** Progress: called before each video (`done` videos finished so far) and per frame batch. */
  onProgress?: (event: ProgressEvent) => void;
  /** One-line warnings (default: stderr). */
  warn?: (message: string) => void;
}

/** What `onProgress` receives. */
export type ProgressEvent =
  | { kind: 'start'; videos: number; resumed: number }
  | { kind: 'video'; index: number; id: string }
  | { kind: 'frames'; id: string; frames: number }
  | { kind: 'done'; index: number; id: string; frames: number; skipped: boolean };

/** What `importDataset` did, for the summary. */
export interface ImportSummary {
  out: string;
  extractor: string;
  videos: number;
  imported: number;
  skipped: number;
  frames: number;
  classes: string[];
  splits: { train: number; val: number; test: number };
  modalities: string[];
  /** Videos of the inputs with no annotation (left out, with a warning). */
  unannotated: string[];
  seconds: number;
}

const SETTINGS_FILE = 'import.json';

/**
 * Builds a FUTR-layout dataset from videos (or frame folders), optional depth, IMU and text, and
 * segment labels: `features/<video>.npy` (T, D) RGB features from `extractor`,
 * `features_depth/<video>.npy` (T, H, W) min-max normalised depth, `features_imu/<video>.npy`
 * (T, C), `features_text/<video>.npy` (T, E), `groundTruth/<video>.txt` (one label per frame),
 * `mapping.txt` and `splits/{train,val,test}.split1.bundle` (an empty split gets no file), plus `import.json` (the settings).
 *
 * It streams: one video at a time, its frames read one by one (ffmpeg over a pipe), so memory
 * is bounded by the longest video, not by their number. It resumes: each video's files are
 * written atomically, its ground truth last, so a video whose ground truth exists is finished
 * and a rerun after a kill skips it; the folder is locked while it runs, and a rerun with other
 * settings is refused (or, with `overwrite`, starts over). Annotation mistakes (a bad row, a
 * video that is not among the inputs, a split column that is missing) are `DatasetFormatError`s
 * or `ImportError`s naming the file and line, raised before any video is decoded.
 *
 * @example
 * const summary = await importDataset({ rgb: 'videos', labels: 'labels.csv', out: 'data/mine', fps: 15, extractor: baselineExtractor() });
 */
export async function importDataset(options: ImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const warn = options.warn ?? ((m: string) => process.stderr.write(`r3d-data: warning: ${m}\n`));
  const o = { labelUnit: 'seconds' as const, gapLabel: 'UNDEFINED', splitRatios: [0.7, 0.15, 0.15] as [number, number, number], splitSeed: 1, ...options };
  if (!(o.fps > 0 && Number.isFinite(o.fps))) throw new ImportError(`--fps: expected a positive number, got ${o.fps}`);
  const ratioSum = o.splitRatios.reduce((a, b) => a + b, 0);
  if (o.splitRatios.some((r) => !(r >= 0)) || Math.abs(ratioSum - 1) > 1e-6) throw new ImportError(`--split: expected three fractions >= 0 summing to 1, got ${o.splitRatios.join(',')}`);
  if (/[,\n]/.test(o.gapLabel)) throw new ImportError(`--gap-label: a label without commas, got "${o.gapLabel}"`);

  // Everything the user wrote is checked before the first frame is decoded.
  const inputs = listRgbInputs(o.rgb);
  const byId = new Map(inputs.map((i) => [i.id, i]));
  const table = parseSegments(readText(o.labels), o.labels);
  const segments = new Map<string, Segment[]>();
  for (const s of table.segments) {
    if (!byId.has(s.video)) throw new ImportError(`${o.labels}:${s.line}: video "${s.video}" is not among the inputs in ${o.rgb} (${describeIds(inputs.map((i) => i.id))})`);
    if (/[,\r\n]/.test(s.label)) throw new ImportError(`${o.labels}:${s.line}: a label without commas or line breaks (ground-truth files hold one per line), got ${JSON.stringify(s.label)}`);
    if (!segments.has(s.video)) segments.set(s.video, []);
    segments.get(s.video)!.push(s);
  }
  const unannotated = inputs.filter((i) => !segments.has(i.id)).map((i) => i.id);
  if (unannotated.length > 0) warn(`${unannotated.length} input(s) have no annotation in ${o.labels} and are left out: ${describeIds(unannotated)}`);
  const videos = inputs.filter((i) => segments.has(i.id));
  if (videos.length === 0) throw new ImportError(`${o.labels}: no row names a video of ${o.rgb}`);
  let groupOf: ((v: string) => string) | undefined;
  if (o.splitBy) {
    const col = o.splitBy.toLowerCase();
    if (!table.header.includes(col)) throw new ImportError(`${o.labels}:1: --split-by ${o.splitBy}: no such column (the header is ${table.header.join(',')})`);
    const group = new Map<string, { value: string; line: number }>();
    for (const s of table.segments) {
      const value = s.extra[col] ?? '';
      const prev = group.get(s.video);
      if (prev && prev.value !== value) throw new ImportError(`${o.labels}:${s.line}: video "${s.video}" has ${col} "${value}" here but "${prev.value}" on line ${prev.line}; a video belongs to one ${col}`);
      if (!prev) group.set(s.video, { value, line: s.line });
    }
    groupOf = (v) => group.get(v)!.value;
  }
  const classes = classList(table.segments, o.gapLabel);
  if (classes.length === 0) throw new ImportError(`${o.labels}: no class labels (only UNDEFINED)`);
  const narrations = new Map<string, Segment[]>();
  if (o.text?.csv) {
    const t = parseSegments(readText(o.text.csv), o.text.csv);
    for (const s of t.segments) {
      if (!byId.has(s.video)) throw new ImportError(`${o.text.csv}:${s.line}: video "${s.video}" is not among the inputs in ${o.rgb}`);
      if (!narrations.has(s.video)) narrations.set(s.video, []);
      narrations.get(s.video)!.push(s);
    }
  }
  for (const v of videos) {
    if (o.depth && !depthSource(o.depth.dir, v.id)) throw new ImportError(`${o.depth.dir}: no depth for video "${v.id}" (expected ${v.id}/ with frames or ${v.id}.npy)`);
    if (o.imu && !existsSync(join(o.imu.dir, `${v.id}.csv`))) throw new ImportError(`${o.imu.dir}: no IMU log for video "${v.id}" (expected ${v.id}.csv)`);
    if (o.text?.npy && !existsSync(join(o.text.npy, `${v.id}.npy`))) throw new ImportError(`${o.text.npy}: no text embeddings for video "${v.id}" (expected ${v.id}.npy)`);
    if (o.text?.phrases && !existsSync(join(o.text.phrases, `${v.id}.txt`))) throw new ImportError(`${o.text.phrases}: no phrase file for video "${v.id}" (expected ${v.id}.txt, one phrase per frame)`);
  }
  if (videos.some((v) => v.kind === 'video')) assertFfmpeg(o.ffmpeg ?? 'ffmpeg');

  const modalities = ['rgb', ...(o.depth ? ['depth'] : []), ...(o.imu ? ['imu'] : []), ...(o.text?.csv || o.text?.phrases || o.text?.npy ? ['text'] : [])];
  // What makes two runs' files the same: a rerun with other settings must not mix them.
  const settings = {
    format: 'r3d-data-import',
    version: 1,
    rgb: resolve(o.rgb),
    labels: resolve(o.labels),
    fps: o.fps,
    labelUnit: o.labelUnit,
    gapLabel: o.gapLabel,
    split: { ratios: o.splitRatios, seed: o.splitSeed, by: o.splitBy ?? null },
    extractor: o.extractor.description,
    depth: o.depth ? { dir: resolve(o.depth.dir), fps: o.depth.fps ?? o.fps, size: o.depth.size } : null,
    imu: o.imu ? { dir: resolve(o.imu.dir), timeScale: o.imu.timeScale ?? 1, align: o.imu.align ?? 'start' } : null,
    text: o.text?.csv ? { csv: resolve(o.text.csv), dim: o.text.dim ?? 128 } : o.text?.phrases ? { phrases: resolve(o.text.phrases), dim: o.text.dim ?? 128 } : o.text?.npy ? { npy: resolve(o.text.npy) } : null,
  };
  const settingsText = `${JSON.stringify(settings, null, 2)}\n`;

  mkdirSync(o.out, { recursive: true });
  const lock = lockFolder(o.out);
  try {
    const settingsPath = join(o.out, SETTINGS_FILE);
    if (existsSync(settingsPath) && readFileSync(settingsPath, 'utf8') !== settingsText) {
      if (!o.overwrite) throw new ImportError(`${settingsPath}: ${o.out} holds an import with other settings; pass --overwrite to start over, or choose another --out`);
      for (const d of ['features', 'features_depth', 'features_imu', 'features_text', 'groundTruth', 'splits']) rmSync(join(o.out, d), { recursive: true, force: true });
      rmSync(join(o.out, 'mapping.txt'), { force: true });
    }
    const dirs = { rgb: 'features', depth: 'features_depth', imu: 'features_imu', text: 'features_text', labels: 'groundTruth' } as const;
    // only the folders of the modalities imported: an empty one would read as files missing
    const used = [dirs.labels, ...modalities.map((m) => dirs[m as 'rgb' | 'depth' | 'imu' | 'text'])];
    for (const d of used) {
      mkdirSync(join(o.out, d), { recursive: true });
      removeOrphanTemporaries(join(o.out, d)); // left by a run killed inside a write
    }
    removeOrphanTemporaries(o.out);
    writeFileAtomic(settingsPath, settingsText);

    const labelIndex = new Set(classes);
    const finished = (id: string): boolean => existsSync(join(o.out, dirs.labels, `${id}.txt`));
    // what is left to import, in order: a video's ground truth marks it finished
    const pending = videos.filter((v) => !finished(v.id));
    const resumed = videos.length - pending.length;
    o.onProgress?.({ kind: 'start', videos: videos.length, resumed });
    let frames = 0;
    let imported = 0;
    const decode = { fps: o.fps, size: o.extractor.size, ...(o.ffmpeg ? { ffmpeg: o.ffmpeg } : {}) };
    // The next video's decoder starts while this one is extracted and written: ffmpeg's start-up
    // (about 0.2 s of dynamic linking) is most of a short video's cost.
    let ahead: FrameSource | undefined; // the decoder of pending[nextPending], once opened
    let nextPending = 0;
    try {
      for (const [index, v] of videos.entries()) {
        if (v !== pending[nextPending]) {
          o.onProgress?.({ kind: 'done', index, id: v.id, frames: 0, skipped: true });
          continue;
        }
        o.onProgress?.({ kind: 'video', index, id: v.id });
        const source = ahead ?? openRgbFrames(v, decode);
        const next = pending[++nextPending];
        ahead = next ? openRgbFrames(next, decode) : undefined;
        const rgb = await extractVideo(source, o.extractor, (n) => o.onProgress?.({ kind: 'frames', id: v.id, frames: n }));
        const T = rgb.frames;
        if (T === 0) throw new ImportError(`${v.path}: no frames decoded at ${o.fps} fps`);
        // the ground truth goes last: its presence marks the video finished
        writeFileAtomic(join(o.out, dirs.rgb, `${v.id}.npy`), encodeNpy({ shape: [T, rgb.dim], data: rgb.data }));
        if (o.depth) {
          const size = o.depth.size;
          const data = depthForFrames(depthSource(o.depth.dir, v.id)!, T, { fps: o.fps, depthFps: o.depth.fps ?? o.fps, size });
          writeFileAtomic(join(o.out, dirs.depth, `${v.id}.npy`), encodeNpy({ shape: [T, size.height, size.width], data }));
        }
        if (o.imu) {
          const { channels, data } = imuForFrames(join(o.imu.dir, `${v.id}.csv`), T, { fps: o.fps, timeScale: o.imu.timeScale ?? 1, align: o.imu.align ?? 'start' });
          writeFileAtomic(join(o.out, dirs.imu, `${v.id}.npy`), encodeNpy({ shape: [T, channels], data }));
        }
        if (o.text?.csv || o.text?.phrases || o.text?.npy) {
          const dim = o.text.dim ?? 128;
          const t = o.text.npy
            ? textFromNpy(join(o.text.npy, `${v.id}.npy`), T)
            : o.text.phrases
              ? await encodePhrases(readPhraseFile(join(o.text.phrases, `${v.id}.txt`), T), new HashedNgramEncoder({ dim }))
              : await textForFrames(narrations.get(v.id) ?? [], T, { unit: o.labelUnit, fps: o.fps, dim });
          writeFileAtomic(join(o.out, dirs.text, `${v.id}.npy`), encodeNpy({ shape: [T, t.dim], data: t.data }));
        }
        const labels = expandLabels(segments.get(v.id)!, T, { unit: o.labelUnit, fps: o.fps, gapLabel: o.gapLabel });
        for (const l of labels) if (l !== 'UNDEFINED' && !labelIndex.has(l)) throw new Error(`internal: label ${l} missing from the class list`);
        writeFileAtomic(join(o.out, dirs.labels, `${v.id}.txt`), `${labels.join('\n')}\n`);
        frames += T;
        imported++;
        o.onProgress?.({ kind: 'done', index, id: v.id, frames: T, skipped: false });
      }
    } finally {
      ahead?.cancel();
    }

    writeFileAtomic(join(o.out, 'mapping.txt'), classes.map((c, i) => `${i} ${c}\n`).join(''));
    const split = assignSplits(videos.map((v) => v.id), { ratios: o.splitRatios, seed: o.splitSeed, ...(groupOf ? { groupOf } : {}) });
    mkdirSync(join(o.out, 'splits'), { recursive: true });
    // an empty split gets no file (a loader or check would read an empty list as a mistake)
    for (const k of ['train', 'val', 'test'] as const) {
      const path = join(o.out, 'splits', SPLIT_FILES[k]);
      if (split[k].length > 0) writeFileAtomic(path, split[k].map((id) => `${id}.txt\n`).join(''));
      else rmSync(path, { force: true });
    }
    return {
      out: o.out,
      extractor: o.extractor.description,
      videos: videos.length,
      imported,
      skipped: videos.length - imported,
      frames,
      classes,
      splits: { train: split.train.length, val: split.val.length, test: split.test.length },
      modalities,
      unannotated,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    lock.release();
  }
}

/** Runs the extractor over a video's frames in batches; only a batch of frames is held at once. */
async function extractVideo(source: FrameSource, extractor: FeatureExtractor, onFrames: (n: number) => void): Promise<{ frames: number; dim: number; data: Float32Array }> {
  const { height, width } = extractor.size;
  const frameLen = height * width * 3;
  const batch = new Float32Array(extractor.batch * frameLen);
  const chunks: Float32Array[] = [];
  let dim = 0;
  let count = 0;
  let frames = 0;
  const flush = async (): Promise<void> => {
    if (count === 0) return;
    const r = await extractor.extract(batch.subarray(0, count * frameLen), count);
    dim = r.dim;
    chunks.push(r.data.slice(0, count * r.dim));
    frames += count;
    count = 0;
    onFrames(frames);
  };
  for await (const frame of source.frames) {
    batch.set(frame, count * frameLen);
    count++;
    if (count === extractor.batch) await flush();
  }
  await flush();
  const data = new Float32Array(frames * dim);
  let off = 0;
  for (const c of chunks) {
    data.set(c, off);
    off += c.length;
  }
  return { frames, dim, data };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ImportError(`${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
}

function describeIds(ids: readonly string[]): string {
  return ids.length <= 5 ? ids.join(', ') : `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more`;
}
