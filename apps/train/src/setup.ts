import { FutrDataset } from '@r3d-ts/datasets/futr';
import { SequenceChecker } from '@r3d-ts/datasets';
import { SyntheticDataset } from '@r3d-ts/datasets/synthetic';
import { type AnticipationSample, samplesFromSequences, type Sequence } from '@r3d-ts/datasets';
import { createR3DModel, depthEncoder, type R3DConfigInput, rgbEncoder, vectorEncoder } from '@r3d-ts/r3d-model';
import { ConfigError, r3dTrainable, type R3DTrainable } from '@r3d-ts/trainer';
import type { RunConfig } from './config.js';

/** Everything a run needs, built from one configuration. */
export interface PreparedRun {
  model: R3DTrainable;
  modelConfig: R3DConfigInput;
  train: AnticipationSample[];
  validation: AnticipationSample[];
  test: AnticipationSample[];
  classNames: string[];
  description: string;
}

/** How `prepareRun` reports what it leaves out. */
export interface PrepareRunOptions {
  /** Called once per split that loses videos, with a line that counts them (default `process.emitWarning`). */
  warn?: (message: string) => void;
}

interface DataDescription {
  classNames: string[];
  train: Sequence[];
  validation: Sequence[];
  test: Sequence[];
  rgbDim: number;
  partner: { name: string; shape: number[] };
  sampleRate: number;
}

/**
 * Builds the data and the R3D model a run configuration describes. `data.kind` is `synthetic`
 * (`@r3d-ts/datasets/synthetic`: options `seed`, `count`, `height`, `width`, `featureDim`) or
 * `futr` (the FUTR layout: `root`, `mapping`, `trainSplit`, `valSplit`, `testSplit`, `partner`
 * = depth|text, `sampleRate`, `depthSize` [h, w]). `model` holds R3D options (`hidden`, `heads`,
 * `ffnDim`, `dropout`, `fuser` ...); class counts and encoder sizes come from the data.
 *
 * @example
 * const config = loadRunConfig('r3d.yaml');
 * const run = await prepareRun(config, 'r3d.yaml');
 * await train({ model: run.model, labels: run.model.labels, trainSamples: run.train, validationSamples: run.validation, config });
 */
export async function prepareRun(config: RunConfig, source = 'config', options: PrepareRunOptions = {}): Promise<PreparedRun> {
  const warn = options.warn ?? ((message: string) => process.emitWarning(message));
  const data = await loadData(config, source, warn);
  const numClasses = data.classNames.length + 1; // + NONE
  const userModel = config.model as Partial<R3DConfigInput>;
  const partner = data.partner.shape.length === 2 ? depthEncoder(data.partner.shape[0], data.partner.shape[1]) : vectorEncoder(data.partner.shape[0], data.partner.name);
  const modelConfig: R3DConfigInput = {
    numClasses,
    noneIndex: numClasses - 1,
    padIndex: numClasses,
    ignoreIndices: [-1],
    rgb: rgbEncoder(data.rgbDim),
    partner,
    seed: config.seed,
    ...userModel,
  };
  const model = r3dTrainable(createR3DModel(modelConfig), { rgb: 'rgb', partner: data.partner.name });
  const common = { labels: model.labels, sampleRate: data.sampleRate, anticipationRatio: config.anticipationRatio, modalities: ['rgb', data.partner.name], targets: config.targets };
  const usable = (split: string, seqs: Sequence[], ratios: readonly number[]) => longEnough(split, seqs, [...ratios, config.anticipationRatio], warn);
  const train = samplesFromSequences(usable('train', data.train, config.trainObservationRatios), { ...common, observationRatios: config.trainObservationRatios });
  if (train.length === 0) throw new ConfigError(source, [`data: no training video is long enough to observe a frame at observation ratios ${config.trainObservationRatios.join(', ')}`]);
  const validation = samplesFromSequences(usable('validation', data.validation, config.evalObservationRatios), { ...common, observationRatios: config.evalObservationRatios });
  const test = samplesFromSequences(usable('test', data.test, config.evalObservationRatios), { ...common, observationRatios: config.evalObservationRatios });
  const description = `${config.data.kind} data: ${data.train.length}/${data.validation.length}/${data.test.length} videos (train/val/test), ${data.classNames.length} classes, rgb ${data.rgbDim}-d + ${data.partner.name} [${data.partner.shape}]; ${train.length} training samples`;
  return { model, modelConfig, train, validation, test, classNames: data.classNames, description };
}

/**
 * The videos of a split that give a sample at every ratio (at least one observed and one future
 * frame); the others are left out with one warning that counts and names them.
 */
function longEnough(split: string, seqs: Sequence[], ratios: readonly number[], warn: (message: string) => void): Sequence[] {
  const smallest = Math.min(...ratios);
  const kept = seqs.filter((s) => ratios.every((r) => Math.floor(r * s.frames) >= 1));
  const dropped = seqs.filter((s) => !kept.includes(s));
  if (dropped.length > 0) {
    const names = dropped.slice(0, 5).map((s) => `${s.id} (${s.frames} frames)`).join(', ');
    warn(`left out ${dropped.length} of ${seqs.length} ${split} videos too short for ratio ${smallest} (a sample needs ${Math.ceil(1 / smallest)} frames): ${names}${dropped.length > 5 ? ', ...' : ''}`);
  }
  return kept;
}

async function loadData(config: RunConfig, source: string, warn: (message: string) => void): Promise<DataDescription> {
  const d = config.data;
  if (d.kind === 'synthetic') {
    const ds = new SyntheticDataset({ seed: d.seed, count: d.count, height: d.height, width: d.width, featureDim: d.featureDim });
    const train = ds.split('train');
    return {
      classNames: ds.classNames,
      train,
      validation: ds.split('val'),
      test: ds.split('test'),
      rgbDim: train[0].modalities.rgb!.dim,
      partner: { name: 'depth', shape: train[0].modalities.depth!.shape ?? [train[0].modalities.depth!.dim] },
      sampleRate: d.sampleRate,
    };
  }
  const mapping = d.mapping != null ? { mapping: d.mapping } : {};
  const depthSize = d.depthSize ? { depthSize: { height: d.depthSize[0], width: d.depthSize[1] } } : {};
  const checker = new SequenceChecker(); // one for every split: widths must agree across them too
  const load = async (split: string | undefined): Promise<Sequence[]> => {
    if (split == null) return [];
    const ds = new FutrDataset({ root: d.root, ...mapping, split, modalities: ['rgb', d.partner], ...depthSize, warn, checker });
    const out: Sequence[] = [];
    for await (const s of ds.sequences()) out.push(s);
    return out;
  };
  const train = await load(d.trainSplit);
  if (train.length === 0) throw new ConfigError(source, ['data.trainSplit: expected a split file under <root>/splits with at least one video']);
  const p = train[0].modalities[d.partner]!;
  return {
    classNames: new FutrDataset({ root: d.root, ...mapping }).classNames,
    train,
    validation: await load(d.valSplit),
    test: await load(d.testSplit),
    rgbDim: train[0].modalities.rgb!.dim,
    partner: { name: d.partner, shape: p.shape ?? [p.dim] },
    sampleRate: d.sampleRate,
  };
}
