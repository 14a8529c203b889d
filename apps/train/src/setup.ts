import { FutrDataset } from '@r3d-ts/datasets/futr';
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
export async function prepareRun(config: RunConfig, source = 'config'): Promise<PreparedRun> {
  const data = await loadData(config, source);
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
  const train = samplesFromSequences(data.train, { ...common, observationRatios: config.trainObservationRatios });
  const validation = samplesFromSequences(data.validation, { ...common, observationRatios: config.evalObservationRatios });
  const test = samplesFromSequences(data.test, { ...common, observationRatios: config.evalObservationRatios });
  const description = `${config.data.kind} data: ${data.train.length}/${data.validation.length}/${data.test.length} videos (train/val/test), ${data.classNames.length} classes, rgb ${data.rgbDim}-d + ${data.partner.name} [${data.partner.shape}]; ${train.length} training samples`;
  return { model, modelConfig, train, validation, test, classNames: data.classNames, description };
}

async function loadData(config: RunConfig, source: string): Promise<DataDescription> {
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
  const load = async (split: string | undefined): Promise<Sequence[]> => {
    if (split == null) return [];
    const ds = new FutrDataset({ root: d.root, ...mapping, split, modalities: ['rgb', d.partner], ...depthSize });
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
