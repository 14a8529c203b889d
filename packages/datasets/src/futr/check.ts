import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAX_BYTES, TensorFormatError } from '@r3d-ts/tensor-io';
import { readNpyHeader } from '@r3d-ts/tensor-io/node';
import { DatasetFormatError } from '../errors.js';
import { UNDEFINED_LABEL } from '../sequence.js';
import { FUTR_FOLDERS, type FutrModality } from './dataset.js';
import { parseGroundTruth, parseMapping, UNDEFINED_NAMES } from './layout.js';
import { givesSample, majorityMoc } from './majority-moc.js';

export type ProblemSeverity = 'error' | 'warning';

/** One thing wrong with a dataset: where (file, 1-based line when it has one) and what, in words. */
export interface DatasetProblem {
  severity: ProblemSeverity;
  /** Stable identifier of the problem class (see the README's table), e.g. `missing-file`. */
  code: string;
  file: string;
  line?: number;
  message: string;
}

/** What `checkFutrDataset` checks against. */
export interface DatasetCheckOptions {
  /** Observation ratios a video must give a sample at, and that the majority MoC is scored at (default [0.2, 0.3]). */
  observationRatios?: number[];
  /** Prediction ratios of the majority MoC (default [0.1, 0.2, 0.3, 0.5]). */
  predictionRatios?: number[];
  /**
   * Frames by which a video's label count and modality row counts may differ (largest minus
   * smallest) before it is an error (default 1: extraction often drops a last frame). Within it,
   * a warning says what the loader's `'truncate'` does: every stream is cut to the shortest.
   */
  frameTolerance?: number;
  /** Keep every n-th frame, as the ablation's `futr.sampleRate` (default 1): too-short and MoC count subsampled frames. */
  sampleRate?: number;
  /** Mapping file under the root (default `mapping.txt`, as `FutrOptions.mapping`). */
  mapping?: string;
  /** Label column of "<path>,<L2>,<L3>" ground truth (default 'l2', as `FutrOptions.level`). */
  level?: 'l2' | 'l3';
}

export interface DatasetCheckReport {
  root: string;
  /** The files of `splits/` with their entries (empty without a `splits/` folder). */
  splits: { name: string; videos: number }[];
  /** Distinct videos over the splits (every ground-truth file without splits). */
  videos: number;
  /**
   * Modalities found: `width` is the feature width most videos have ([H, W] for depth); `text`
   * without `features_text/` is derived from the labels and has width null.
   */
  modalities: { name: FutrModality; width: number | number[] | null; videos: number }[];
  /** Per mapping class: frames in the train split and in all videos (after the loader's trimming, full frame rate). */
  classes: { index: number; name: string; trainFrames: number; totalFrames: number }[];
  /** MoC of always predicting `majority` on the test split (see `majorityMoc`); NaN without train and test videos. */
  majorityClassMoc: number;
  /** The class and the train/test split pair `majorityClassMoc` used (null when there was none). */
  majority?: { index: number; name: string; train: string; test: string } | null;
  /** Videos that give no sample at some observation ratio: `minFrames` is the fewest (full-rate) frames that would. */
  tooShort: { video: string; frames: number; minFrames: number }[];
  problems: DatasetProblem[];
  /** 0 clean, 1 warnings only, 2 any error. */
  exitCode: 0 | 1 | 2;
}

// Past this many problems of one code the rest are counted in one line, so a dataset missing a
// whole folder's files still prints a readable report.
const MAX_PER_CODE = 50;

interface Entry {
  id: string;
  split: string;
  line: number;
}

/** Run-length labels of one video, so the test split's labels stay small in memory until scored. */
interface Runs {
  values: number[];
  lengths: number[];
}

/**
 * Checks a FUTR-layout dataset (see `FutrDataset` and the README's layout table) before anything
 * trains, and never throws on a bad file: every split entry must have its ground truth and one
 * file per modality folder present (`features/` always); feature widths must agree within each
 * modality; label and row counts of a video must agree within `frameTolerance` (within it, a
 * warning says what the loader trims); every label must be in the mapping (the first offending
 * line is named); a mapping class without train frames is a warning; videos too short to give a
 * sample at an observation ratio are listed (warning); broken `.npy` headers, ground-truth files,
 * split files and mappings are errors naming the file (and line). Only the `.npy` headers are
 * read (`readNpyHeader`), so memory and time do not grow with the feature size; values are not
 * checked (the loader checks them when it reads them). Class frequencies and the majority-class
 * MoC (`majorityMoc`) come with the report; `exitCode` is 0 clean, 1 warnings only, 2 errors.
 *
 * @example
 * const report = await checkFutrDataset('data/my-dataset');
 * console.log(formatCheckReport(report));
 * process.exitCode = report.exitCode;
 */
export async function checkFutrDataset(root: string, options: DatasetCheckOptions = {}): Promise<DatasetCheckReport> {
  const obsRatios = options.observationRatios ?? [0.2, 0.3];
  const predRatios = options.predictionRatios ?? [0.1, 0.2, 0.3, 0.5];
  const tolerance = options.frameTolerance ?? 1;
  const rate = options.sampleRate ?? 1;
  for (const r of [...obsRatios, ...predRatios]) if (!(r > 0 && r <= 1)) throw new RangeError(`checkFutrDataset: ratios must be in (0, 1], got ${r}`);
  if (!(Number.isInteger(tolerance) && tolerance >= 0)) throw new RangeError(`checkFutrDataset: frameTolerance must be a non-negative integer, got ${tolerance}`);
  if (!(Number.isInteger(rate) && rate >= 1)) throw new RangeError(`checkFutrDataset: sampleRate must be a positive integer, got ${rate}`);

  const problems = new Problems();
  const report: DatasetCheckReport = { root, splits: [], videos: 0, modalities: [], classes: [], majorityClassMoc: Number.NaN, majority: null, tooShort: [], problems: [], exitCode: 0 };
  const finish = (): DatasetCheckReport => {
    report.problems = problems.list();
    report.exitCode = report.problems.some((p) => p.severity === 'error') ? 2 : report.problems.length > 0 ? 1 : 0;
    return report;
  };
  if (!isDir(root)) {
    problems.add('error', 'missing-folder', root, 'no such folder: expected a FUTR-layout dataset (features/, groundTruth/, mapping.txt, splits/)');
    return finish();
  }

  // mapping: names, and the line of each class for the "not in train" warnings
  const mappingPath = join(root, options.mapping ?? 'mapping.txt');
  let mapping: { names: string[]; index: Map<string, number>; lines: number[] } | undefined;
  const mappingText = readText(mappingPath, problems, 'the class mapping ("<index> <ClassName>" lines)');
  if (mappingText != null) {
    try {
      const parsed = parseMapping(mappingText, mappingPath);
      const lines: number[] = [];
      mappingText.split(/\r?\n/).forEach((raw, i) => {
        const m = /^\s*(\d+)\s+/.exec(raw);
        if (m) lines[Number(m[1])] = i + 1;
      });
      mapping = { ...parsed, lines };
    } catch (e) {
      problems.fromError(e, 'bad-mapping', mappingPath);
    }
  }

  // the videos: split entries (with the split file and line that lists them), else every ground-truth file
  const gtDir = join(root, 'groundTruth');
  if (!isDir(gtDir)) problems.add('error', 'missing-folder', gtDir, 'no groundTruth/ folder: every video needs groundTruth/<video>.txt (one label per frame)');
  const splitsDir = join(root, 'splits');
  const splitFiles = isDir(splitsDir) ? readdirSync(splitsDir).filter((n) => !n.startsWith('.') && isFile(join(splitsDir, n))).sort() : [];
  const splitIds = new Map<string, string[]>();
  const entries: Entry[] = [];
  const firstEntry = new Map<string, Entry>();
  for (const name of splitFiles) {
    const path = join(splitsDir, name);
    const text = readText(path, problems, 'a split file (one ground-truth file name per line)');
    const ids: string[] = [];
    text?.split(/\r?\n/).forEach((raw, i) => {
      const s = raw.trim();
      if (s === '') return;
      const id = s.replace(/\.txt$/, '');
      ids.push(id);
      const entry = { id, split: name, line: i + 1 };
      entries.push(entry);
      if (!firstEntry.has(id)) firstEntry.set(id, entry);
    });
    if (text != null && ids.length === 0) problems.add('warning', 'empty-split', path, 'lists no video');
    splitIds.set(name, ids);
    report.splits.push({ name, videos: new Set(ids).size });
  }
  let videoIds: string[];
  if (splitFiles.length === 0) {
    videoIds = isDir(gtDir) ? readdirSync(gtDir).filter((n) => n.endsWith('.txt')).map((n) => n.slice(0, -4)).sort() : [];
    problems.add('warning', 'no-splits', splitsDir, `no split files: the ablation cuts the ${videoIds.length} ground-truth files 70/30 in id order (train/test), and so does this check`);
  } else {
    videoIds = [...firstEntry.keys()];
  }
  report.videos = videoIds.length;
  const { train, test } = trainTestPair(splitFiles, splitIds, videoIds);

  // the modalities: rgb always, the others where their folder exists
  const present: FutrModality[] = ['rgb'];
  for (const m of ['depth', 'imu', 'text'] as const) if (isDir(join(root, FUTR_FOLDERS[m]))) present.push(m);
  const rgbMissing = !isDir(join(root, FUTR_FOLDERS.rgb));
  if (rgbMissing) problems.add('error', 'missing-folder', join(root, FUTR_FOLDERS.rgb), 'no features/ folder: every video needs features/<video>.npy (T, D), the RGB features');
  const widths = new Map<FutrModality, Map<string, { width: number | number[]; videos: string[] }>>(present.map((m) => [m, new Map()]));

  // one video at a time: ground truth, then each modality's .npy header
  const classCount = mapping?.names.length ?? 0;
  const totalFrames = new Array<number>(classCount).fill(0);
  const trainFrames = new Array<number>(classCount).fill(0);
  const trainSet = new Set(train?.ids ?? []);
  const testSet = new Set(test?.ids ?? []);
  const testRuns = new Map<string, Runs>();
  const minFrames = minimumFrames(obsRatios, rate);
  for (const id of videoIds) {
    const listed = firstEntry.get(id);
    const where = listed ? ` (listed in splits/${listed.split}:${listed.line})` : '';
    const gtPath = join(gtDir, `${id}.txt`);
    const labels = isDir(gtDir) ? readLabels(gtPath, where, mapping, options.level ?? 'l2', problems) : undefined;
    const counts: { key: string; file: string; frames: number }[] = labels ? [{ key: 'labels', file: gtPath, frames: labels.length }] : [];
    for (const m of present) {
      if (m === 'rgb' && rgbMissing) continue;
      const path = join(root, FUTR_FOLDERS[m], `${id}.npy`);
      const shape = readShape(path, m, where, problems);
      if (!shape) continue;
      const group = widths.get(m)!;
      const key = String(shape.width);
      if (!group.has(key)) group.set(key, { width: shape.width, videos: [] });
      group.get(key)!.videos.push(path);
      counts.push({ key: m, file: path, frames: shape.frames });
    }
    if (!labels) continue;
    const T = Math.min(...counts.map((c) => c.frames));
    const spread = Math.max(...counts.map((c) => c.frames)) - T;
    if (spread > 0) {
      const lengths = counts.map((c) => `${c.key} ${c.frames}`).join(', ');
      if (spread > tolerance) {
        // with three or more streams the odd one is the furthest from the median; with labels and one file, the file
        const sorted = counts.map((c) => c.frames).sort((a, b) => a - b);
        const ref = counts.length >= 3 ? sorted[Math.floor(sorted.length / 2)]! : labels.length;
        const odd = counts.reduce((a, b) => (Math.abs(b.frames - ref) > Math.abs(a.frames - ref) ? b : a));
        problems.add('error', 'frame-mismatch', odd.file, `${id}: frame counts differ by ${spread}, more than the tolerance of ${tolerance} (${lengths}): were the features extracted at the labels' frame rate?`);
      } else {
        const cut = counts.filter((c) => c.frames > T).map((c) => `${c.frames - T} of ${c.key}`).join(', ');
        problems.add('warning', 'frames-trimmed', gtPath, `${id}: ${lengths}; the loader trims every stream to ${T} frames (drops the last ${cut})`);
      }
    }
    if (labels.indices) {
      const kept = labels.indices.subarray(0, T);
      for (const k of kept) {
        if (k < 0) continue;
        totalFrames[k]! += 1;
        if (trainSet.has(id)) trainFrames[k]! += 1;
      }
      if (testSet.has(id)) testRuns.set(id, runLengths(kept, rate));
    }
    if (T < minFrames.frames) {
      report.tooShort.push({ video: id, frames: T, minFrames: minFrames.frames });
      const sub = rate > 1 ? ` (${Math.ceil(T / rate)} after keeping 1 frame in ${rate})` : '';
      problems.add('warning', 'too-short', gtPath, `${id}: ${T} frames${sub} give no sample at observation ratio ${minFrames.ratio} (the trainer skips it there); it needs at least ${minFrames.frames}`);
    }
  }

  // widths: the width most videos have is the reference, every other one is an error on its file
  for (const m of present) {
    const groups = [...widths.get(m)!.values()];
    const files = groups.reduce((n, g) => n + g.videos.length, 0);
    const ref = groups.reduce<(typeof groups)[number] | undefined>((a, b) => (!a || b.videos.length > a.videos.length ? b : a), undefined);
    report.modalities.push({ name: m, width: ref?.width ?? null, videos: files });
    for (const g of groups) {
      if (g === ref) continue;
      for (const file of g.videos) {
        problems.add('error', 'width-mismatch', file, `${m} width ${describeWidth(g.width)}, but ${ref!.videos.length} of ${files} videos have ${describeWidth(ref!.width)} (e.g. ${ref!.videos[0]})`);
      }
    }
  }
  if (!present.includes('text')) report.modalities.push({ name: 'text', width: null, videos: videoIds.length });

  if (mapping) {
    report.classes = mapping.names.map((name, index) => ({ index, name, trainFrames: trainFrames[index]!, totalFrames: totalFrames[index]! }));
    if (train) {
      for (const c of report.classes) {
        if (c.trainFrames > 0) continue;
        const elsewhere = c.totalFrames > 0 ? `; its ${c.totalFrames} frames in other videos cannot be learned` : '; no video uses it';
        problems.add('warning', 'class-not-in-train', mappingPath, `class ${c.index} "${c.name}" has no frame in the train split (${train.name})${elsewhere}`, mapping.lines[c.index]);
      }
    }
    if (train && test && trainFrames.some((n) => n > 0)) {
      const majority = trainFrames.reduce((best, n, k) => (n > trainFrames[best]! ? k : best), 0);
      report.majority = { index: majority, name: mapping.names[majority]!, train: train.name, test: test.name };
      report.majorityClassMoc = majorityMoc(expandRuns(test.ids, testRuns), majority, obsRatios, predRatios);
    }
  }
  if (splitFiles.length > 0 && (!train || !test)) {
    problems.add('warning', 'no-train-test', splitsDir, `no train/test split pair (file names containing "train" and "test"): class-in-train and majority MoC are not checked`);
  }
  return finish();
}

class Problems {
  private readonly items: DatasetProblem[] = [];
  private readonly perCode = new Map<string, number>();

  add(severity: ProblemSeverity, code: string, file: string, message: string, line?: number): void {
    const n = (this.perCode.get(code) ?? 0) + 1;
    this.perCode.set(code, n);
    if (n <= MAX_PER_CODE) this.items.push({ severity, code, file, ...(line != null ? { line } : {}), message });
  }

  /** A thrown parse error as a problem: the file and line it names, its expectation as the message. */
  fromError(e: unknown, code: string, file: string): void {
    if (e instanceof DatasetFormatError) {
      const at = e.line == null && e.offset != null ? ` (byte ${e.offset})` : '';
      this.add('error', code, e.file, `expected ${e.expected}${e.found != null ? `, found ${JSON.stringify(e.found).slice(0, 80)}` : ''}${at}`, e.line);
    } else if (e instanceof TensorFormatError) {
      this.add('error', code, e.file, `expected ${e.expected}${e.found != null ? `, found ${JSON.stringify(e.found).slice(0, 80)}` : ''}${e.offset != null ? ` (byte ${e.offset})` : ''}`);
    } else {
      this.add('error', code, file, `unreadable: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }

  list(): DatasetProblem[] {
    const out = [...this.items];
    for (const [code, n] of this.perCode) {
      if (n <= MAX_PER_CODE) continue;
      const first = this.items.find((p) => p.code === code)!;
      out.push({ severity: first.severity, code, file: first.file, message: `... and ${n - MAX_PER_CODE} more ${code} problems like the ones above` });
    }
    return out;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function readText(path: string, problems: Problems, what: string, where = ''): string | undefined {
  try {
    return new TextDecoder().decode(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') problems.add('error', 'missing-file', path, `missing: expected ${what}${where}`);
    else problems.add('error', 'unreadable', path, `unreadable (${code ?? String(e)}): expected ${what}${where}`);
    return undefined;
  }
}

/** A video's labels: their count, and class indices when every label is in the mapping. */
function readLabels(path: string, where: string, mapping: { index: Map<string, number> } | undefined, level: 'l2' | 'l3', problems: Problems): { length: number; indices?: Int32Array } | undefined {
  const text = readText(path, problems, 'one label per frame', where);
  if (text == null) return undefined;
  let names: string[] | undefined;
  try {
    const gt = parseGroundTruth(text, path);
    names = level === 'l3' ? gt.l3 : gt.l2;
    if (!names) problems.add('error', 'bad-labels', path, `expected "<frame path>,<L2>,<L3>" lines for level l3, found ${gt.format} lines`, 1);
  } catch (e) {
    problems.fromError(e, 'bad-labels', path);
  }
  if (!names) return undefined;
  if (!mapping) return { length: names.length };
  const indices = new Int32Array(names.length);
  let unknown = 0;
  let first = -1;
  names.forEach((n, i) => {
    if (UNDEFINED_NAMES.has(n)) {
      indices[i] = UNDEFINED_LABEL;
      return;
    }
    const k = mapping.index.get(n);
    if (k != null) {
      indices[i] = k;
      return;
    }
    unknown += 1;
    if (first < 0) first = i;
  });
  if (first >= 0) {
    const more = unknown > 1 ? ` (${unknown} lines in all)` : '';
    problems.add('error', 'unknown-label', path, `label ${JSON.stringify(names[first])} is not in the mapping${more}: add it to the mapping or fix the label`, first + 1);
    return { length: names.length };
  }
  return { length: names.length, indices };
}

/** Frames and per-frame width from a `.npy` header, with the shape rules the loader applies. */
function readShape(path: string, modality: FutrModality, where: string, problems: Problems): { frames: number; width: number | number[] } | undefined {
  let header: ReturnType<typeof readNpyHeader>;
  try {
    header = readNpyHeader(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') problems.add('error', 'missing-file', path, `missing: expected the ${modality} features of this video${where}`);
    else problems.fromError(e, 'bad-npy', path);
    return undefined;
  }
  const s = header.shape;
  const bad = (expected: string): undefined => {
    problems.add('error', 'bad-npy', path, `expected ${expected}, found shape (${s.join(', ')})`);
    return undefined;
  };
  let width: number | number[];
  if (modality === 'depth') {
    if (!(s.length === 3 || (s.length === 4 && s[1] === 1))) return bad('depth of shape (T, H, W) or (T, 1, H, W)');
    width = [s[s.length - 2]!, s[s.length - 1]!];
  } else {
    if (s.length < 2) return bad(`${modality} features of shape (T, D), one row per frame`);
    width = s.slice(1).reduce((a, b) => a * b, 1);
  }
  if (s[0] === 0 || s.slice(1).some((d) => d === 0)) return bad('at least one frame and one value per frame');
  const have = header.fileBytes - header.dataOffset;
  if (have < header.dataBytes) {
    problems.add('error', 'bad-npy', path, `truncated: shape (${s.join(', ')}) ${header.dtype} needs ${header.dataBytes} data bytes, the file holds ${Math.max(0, have)}`);
    return undefined;
  }
  if (header.dataBytes > DEFAULT_MAX_BYTES) {
    problems.add('error', 'bad-npy', path, `${header.dataBytes} data bytes, more than the ${DEFAULT_MAX_BYTES} bytes (4 GiB) the loader reads from one file`);
    return undefined;
  }
  return { frames: s[0]!, width };
}

function describeWidth(w: number | number[]): string {
  return Array.isArray(w) ? `${w[0]}x${w[1]}` : String(w);
}

/**
 * The fewest full-rate frames that give a sample at every observation ratio, with the ratio
 * that needs them: after keeping 1 frame in `rate`, ceil(T / rate) frames must give
 * int(obs L) >= 1 and int(0.5 L) >= 1 (`givesSample`).
 */
function minimumFrames(ratios: readonly number[], rate: number): { frames: number; ratio: number } {
  let L = 1;
  while (!ratios.every((r) => givesSample(L, r))) L += 1;
  const ratio = ratios.find((r) => !givesSample(L - 1, r)) ?? ratios[0]!;
  return { frames: (L - 1) * rate + 1, ratio };
}

/** The split pair the ablation would train and test on: `*train*` with its `*test*` twin, else the 70/30 id-order cut. */
function trainTestPair(splitFiles: string[], splitIds: Map<string, string[]>, videoIds: string[]): { train?: { name: string; ids: string[] }; test?: { name: string; ids: string[] } } {
  if (splitFiles.length === 0) {
    const cut = Math.round(0.7 * videoIds.length);
    return { train: { name: 'first 70% of the ids', ids: videoIds.slice(0, cut) }, test: { name: 'last 30% of the ids', ids: videoIds.slice(cut) } };
  }
  for (const name of splitFiles.filter((n) => n.includes('train'))) {
    const twin = name.replace('train', 'test');
    const testName = splitIds.has(twin) ? twin : splitFiles.find((n) => n.includes('test'));
    if (testName) return { train: { name, ids: splitIds.get(name)! }, test: { name: testName, ids: splitIds.get(testName)! } };
  }
  const trainName = splitFiles.find((n) => n.includes('train'));
  return trainName ? { train: { name: trainName, ids: splitIds.get(trainName)! } } : {};
}

function runLengths(labels: Int32Array, rate: number): Runs {
  const runs: Runs = { values: [], lengths: [] };
  for (let t = 0; t < labels.length; t += rate) {
    const v = labels[t]!;
    const last = runs.values.length - 1;
    if (last >= 0 && runs.values[last] === v) runs.lengths[last]! += 1;
    else {
      runs.values.push(v);
      runs.lengths.push(1);
    }
  }
  return runs;
}

function* expandRuns(ids: readonly string[], runs: ReadonlyMap<string, Runs>): Generator<Int32Array> {
  for (const id of ids) {
    const r = runs.get(id);
    if (!r) continue; // a test video with broken labels: already reported
    const out = new Int32Array(r.lengths.reduce((a, b) => a + b, 0));
    let t = 0;
    r.values.forEach((v, i) => {
      out.fill(v, t, t + r.lengths[i]!);
      t += r.lengths[i]!;
    });
    yield out;
  }
}
