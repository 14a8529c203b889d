#!/usr/bin/env node
import { existsSync, statSync } from 'node:fs';
import { packageVersion, progressAllowed, runCli, UsageError, userFacingCommands } from '@r3d-ts/trainer/cli';
import { Command, InvalidArgumentError } from 'commander';
import { checkFutrDataset, formatCheckReport } from '@r3d-ts/datasets/node';
import { makeExample } from './example.js';
import type { FeatureExtractor } from './extractors.js';
import type { ImportSummary } from './import.js';
import { NORMALISATIONS, type Normalisation } from './normalisations.js';
import type { Size } from './sources.js';

const number = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${v}"`);
  return n;
};
const positive = (v: string): number => {
  const n = number(v);
  if (!(n > 0)) throw new InvalidArgumentError(`expected a positive number, got "${v}"`);
  return n;
};
const integer = (v: string): number => {
  const n = number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got "${v}"`);
  return n;
};
const positiveInteger = (v: string): number => {
  const n = integer(v);
  if (n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return n;
};
const size = (v: string): Size => {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new InvalidArgumentError(`expected HEIGHTxWIDTH (e.g. 120x160), got "${v}"`);
  return { height: Number(m[1]), width: Number(m[2]) };
};
const ratios = (v: string): [number, number, number] => {
  const parts = v.split(',').map(Number);
  if (parts.length !== 3 || parts.some((p) => !(p >= 0)) || Math.abs(parts[0]! + parts[1]! + parts[2]! - 1) > 1e-6) throw new InvalidArgumentError(`expected train,val,test fractions summing to 1 (e.g. 0.7,0.15,0.15), got "${v}"`);
  return parts as [number, number, number];
};
const oneOf = <T extends string>(values: readonly T[]) => (v: string): T => {
  if (!(values as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}, got "${v}"`);
  return v as T;
};

/** A command's verdict that is no error (check's 1 for warnings, 2 for errors): runCli sets 0 after a normal return, so it is applied after. */
let resultCode = 0;

interface ImportFlags {
  videos: string;
  labels: string;
  out: string;
  fps: number;
  labelUnit: 'seconds' | 'frames';
  gapLabel: string;
  split: [number, number, number];
  splitSeed: number;
  splitBy?: string;
  rgbModel?: string;
  rgbModelFormat: 'auto' | 'layers' | 'graph';
  rgbSize?: Size;
  rgbNormalise: Normalisation;
  rgbOutput?: string;
  rgbBatch: number;
  baselineDim: number;
  depth?: string;
  depthFps?: number;
  depthSize: Size;
  imu?: string;
  imuTimeUnit: 's' | 'ms';
  imuAlign: 'start' | 'zero';
  text?: string;
  textNpy?: string;
  textDim: number;
  ffmpeg?: string;
  backend?: string;
  overwrite?: boolean;
  progress: boolean;
  check: boolean;
  json?: boolean;
}

function summaryLines(s: ImportSummary): string {
  return [
    `imported ${s.imported} video(s), ${s.skipped} already done (resumed), ${s.frames} new frames, in ${s.seconds.toFixed(1)} s -> ${s.out}`,
    `RGB features: ${s.extractor}`,
    `modalities: ${s.modalities.join(', ')}; ${s.classes.length} classes in mapping.txt; splits train ${s.splits.train}, val ${s.splits.val}, test ${s.splits.test}`,
    ...(s.unannotated.length ? [`left out (no annotation): ${s.unannotated.length}`] : []),
  ].join('\n');
}

async function runImport(flags: ImportFlags): Promise<void> {
  if (flags.text && flags.textNpy) throw new UsageError('--text and --text-npy: give one of them', 'r3d-data import');
  const textIsFolder = flags.text != null && existsSync(flags.text) && statSync(flags.text).isDirectory();
  // the extractors (TensorFlow.js for a model), the importer and the progress bar load once the
  // flags have passed: `--help` and a bad flag answer in a Node start
  const [{ baselineExtractor, modelExtractor }, { importDataset }, { SingleBar }] = await Promise.all([import('./extractors.js'), import('./import.js'), import('cli-progress')]);
  let extractor: FeatureExtractor;
  if (flags.rgbModel) {
    const { describeBackend, selectBackend } = await import('@r3d-ts/backend');
    const report = await selectBackend(flags.backend ? { backend: flags.backend } : {});
    console.error(describeBackend(report));
    extractor = await modelExtractor({ model: flags.rgbModel, format: flags.rgbModelFormat, normalise: flags.rgbNormalise, batch: flags.rgbBatch, ...(flags.rgbSize ? { size: flags.rgbSize } : {}), ...(flags.rgbOutput ? { output: flags.rgbOutput } : {}) });
  } else {
    extractor = baselineExtractor({ dim: flags.baselineDim, ...(flags.rgbSize ? { size: flags.rgbSize } : {}) });
  }
  console.error(`RGB features: ${extractor.description}`);
  if (!flags.rgbModel) console.error('r3d-data: note: no --rgb-model, so the RGB features come from the fixed BASELINE extractor (fine to test the pipeline; use a trained image model for results)');
  const bar = progressAllowed({ flag: flags.progress })
    ? new SingleBar({ format: 'import |{bar}| {value}/{total} videos | {id} {frames} frames', hideCursor: true, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 5000 })
    : undefined;
  let total = 0;
  let summary: ImportSummary;
  try {
    summary = await importDataset({
      rgb: flags.videos,
      labels: flags.labels,
      out: flags.out,
      fps: flags.fps,
      labelUnit: flags.labelUnit,
      gapLabel: flags.gapLabel,
      splitRatios: flags.split,
      splitSeed: flags.splitSeed,
      ...(flags.splitBy ? { splitBy: flags.splitBy } : {}),
      ...(flags.depth ? { depth: { dir: flags.depth, size: flags.depthSize, ...(flags.depthFps ? { fps: flags.depthFps } : {}) } } : {}),
      ...(flags.imu ? { imu: { dir: flags.imu, timeScale: flags.imuTimeUnit === 'ms' ? 1000 : 1, align: flags.imuAlign } } : {}),
      ...(flags.text || flags.textNpy ? { text: { ...(flags.text ? (textIsFolder ? { phrases: flags.text } : { csv: flags.text }) : {}), ...(flags.textNpy ? { npy: flags.textNpy } : {}), dim: flags.textDim } } : {}),
      extractor,
      ...(flags.ffmpeg ? { ffmpeg: flags.ffmpeg } : {}),
      overwrite: flags.overwrite ?? false,
      onProgress: (e) => {
        if (bar) {
          if (e.kind === 'start') bar.start(e.videos, 0, { id: '', frames: 0 });
          else if (e.kind === 'video') bar.update({ id: e.id, frames: 0 });
          else if (e.kind === 'frames') bar.update({ frames: e.frames });
          else bar.increment(1, { id: e.id, frames: e.frames });
        } else if (e.kind === 'start') {
          total = e.videos;
          console.error(`importing ${e.videos} video(s)${e.resumed ? `, ${e.resumed} already done` : ''}`);
        } else if (e.kind === 'done' && !e.skipped) console.error(`[${e.index + 1}/${total}] ${e.id}: ${e.frames} frames`);
      },
    });
  } finally {
    bar?.stop();
    extractor.dispose();
  }
  if (flags.json) console.log(JSON.stringify({ event: 'import', ...summary }));
  else console.log(summaryLines(summary));
  if (flags.check) {
    const report = await checkFutrDataset(flags.out);
    if (!flags.json) console.log(`\n${formatCheckReport(report)}`);
    // warnings are printed but do not fail the import; errors in what it wrote do (exit 2)
    if (report.exitCode === 2) resultCode = 2;
  }
}

interface CheckFlags {
  json?: boolean;
  frameTolerance?: number;
  sampleRate?: number;
  observationRatios?: number[];
}

async function runCheck(folder: string, flags: CheckFlags): Promise<void> {
  const report = await checkFutrDataset(folder, {
    ...(flags.frameTolerance != null ? { frameTolerance: flags.frameTolerance } : {}),
    ...(flags.sampleRate != null ? { sampleRate: flags.sampleRate } : {}),
    ...(flags.observationRatios ? { observationRatios: flags.observationRatios } : {}),
  });
  console.log(flags.json ? JSON.stringify({ event: 'check', ...report }) : formatCheckReport(report));
  resultCode = report.exitCode;
}

const fractions = (v: string): number[] => {
  const parts = v.split(',').map(Number);
  if (parts.length === 0 || parts.some((p) => !(p > 0 && p <= 1))) throw new InvalidArgumentError(`expected a comma list of ratios in (0, 1], got "${v}"`);
  return parts;
};

/** The `r3d-data` command line (exported for tests). */
export function cli(): Command {
  const program = new Command('r3d-data').description('Bring your own data: import videos, depth, IMU, text and labels into the FUTR layout, and check it').version(packageVersion(import.meta.url));
  program
    .command('import')
    .description('build a FUTR-layout dataset (features/, features_depth/, features_imu/, features_text/, groundTruth/, mapping.txt, splits/) from videos and annotations, then check it')
    .requiredOption('--videos <folder>', 'folder of videos (any format ffmpeg decodes) and/or subfolders of PNG/JPEG frames, one per video')
    .requiredOption('--labels <file>', 'segment CSV video,start,end,label (a header row allows extra columns, e.g. subject)')
    .requiredOption('-o, --out <folder>', 'output folder (the dataset root); a rerun resumes it')
    .option('--fps <n>', 'frames per second to sample the videos at (frame folders are taken to be at this rate)', positive, 15)
    .option('--label-unit <unit>', 'unit of start/end in the label CSV: seconds | frames', oneOf(['seconds', 'frames'] as const), 'seconds')
    .option('--gap-label <name>', 'label of frames no segment covers: UNDEFINED (not scored) or a class, e.g. background', 'UNDEFINED')
    .option('--split <fractions>', 'train,val,test fractions of videos (or of --split-by groups)', ratios, [0.7, 0.15, 0.15])
    .option('--split-seed <n>', 'seed of the split shuffle', integer, 1)
    .option('--split-by <column>', 'keep the videos of each value of this label-CSV column (e.g. subject) in one split')
    .option('--rgb-model <model>', 'TF.js image model: a LayersModel/GraphModel folder or model.json, or a tf.io URL (default: the BASELINE extractor)')
    .option('--rgb-model-format <f>', 'auto | layers | graph', oneOf(['auto', 'layers', 'graph'] as const), 'auto')
    .option('--rgb-size <HxW>', "frame size fed to the extractor (default: the model's input shape; baseline 24x32)", size)
    .option('--rgb-normalise <mode>', `pixel normalisation for the model: ${NORMALISATIONS.join(' | ')}`, oneOf(NORMALISATIONS), '0-1')
    .option('--rgb-output <name>', "layer (LayersModel) or node (GraphModel) whose output are the features (default: the model's output)")
    .option('--rgb-batch <n>', 'frames per model call', positiveInteger, 16)
    .option('--baseline-dim <n>', 'feature size of the baseline extractor', positiveInteger, 256)
    .option('--depth <folder>', 'depth per video: <video>/ with PNG, NPY or UTKinect XML frames, or <video>.npy (T, H, W)')
    .option('--depth-fps <n>', 'frame rate of the depth frames (default: --fps)', positive)
    .option('--depth-size <HxW>', 'depth frame size after the bilinear resize (the released R3D uses 120x160)', size, { height: 120, width: 160 })
    .option('--imu <folder>', 'IMU (or any sensor) log per video: <video>.csv, a time column then channels')
    .option('--imu-time-unit <u>', 'unit of the IMU time column: s | ms', oneOf(['s', 'ms'] as const), 's')
    .option('--imu-align <a>', "start: the log's first time is the video's start; zero: times are relative to the video's start", oneOf(['start', 'zero'] as const), 'start')
    .option('--text <file|folder>', 'narration CSV video,start,end,text (label units), or a folder of <video>.txt phrase files (one line per frame); encoded with the hashed n-gram encoder')
    .option('--text-npy <folder>', 'precomputed text embeddings per video: <video>.npy (T, E)')
    .option('--text-dim <n>', 'size of the encoded text vectors', positiveInteger, 128)
    .option('--ffmpeg <path>', 'the ffmpeg to run (default: ffmpeg on PATH)')
    .option('--backend <name>', 'TensorFlow.js backend for --rgb-model (default: R3D_BACKEND, else auto)')
    .option('--overwrite', 'start over when the folder holds an import with other settings')
    .option('--no-check', 'do not run check on the result')
    .option('--no-progress', 'no progress bar (there is none when stderr is not a terminal, under CI=true or NO_COLOR)')
    .option('--json', 'print the summary as one JSON line')
    .action((flags: ImportFlags) => runImport(flags));
  program
    .command('check')
    .description('check a FUTR-layout dataset (checkFutrDataset of @r3d-ts/datasets/node): splits, files, widths, frame counts, labels, classes, too-short videos, majority-class MoC; exit 0 (clean), 1 (warnings) or 2 (errors)')
    .argument('<folder>', 'the dataset root')
    .option('--frame-tolerance <n>', 'frames by which a video\'s labels and modalities may differ before it is an error (default 1)', integer)
    .option('--sample-rate <n>', 'count every n-th frame, as the ablation\'s futr.sampleRate (default 1)', positiveInteger)
    .option('--observation-ratios <list>', 'observation ratios every video must give a sample at (default 0.2,0.3)', fractions)
    .option('--json', 'print the report as one JSON line')
    .action((folder: string, flags: CheckFlags) => runCheck(folder, flags));
  program
    .command('example')
    .description('write a tiny example to import: videos/ (ffmpeg), depth/ (16-bit PNG), imu/ (CSV), labels.csv, narrations.csv')
    .argument('<folder>', 'where to write it')
    .option('--videos <n>', 'number of videos', integer, 6)
    .option('--seed <n>', 'seed of the synthetic world', integer, 1)
    .option('--ffmpeg <path>', 'the ffmpeg to run')
    .action((folder: string, flags: { videos: number; seed: number; ffmpeg?: string }) => {
      const r = makeExample(folder, { videos: flags.videos, seed: flags.seed, ...(flags.ffmpeg ? { ffmpeg: flags.ffmpeg } : {}) });
      console.log(`wrote ${r.videos.length} videos with depth, IMU, labels and narrations to ${folder}`);
    });
  return userFacingCommands(program);
}

if ((await runCli('r3d-data', () => cli().parseAsync(process.argv))) === 0 && resultCode !== 0) process.exitCode = resultCode;
