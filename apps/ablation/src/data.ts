import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type FrameModality, type Sequence, SequenceChecker, sliceFrames, UNDEFINED_LABEL } from '@r3d-ts/datasets';
import type { LabelSpace } from '@r3d-ts/trainer';
import type { AblationConfig, Partner } from './config.js';
import { AblationConfigError } from './errors.js';

/** The sequences the grid trains and tests on, with their class names. */
export interface AblationData {
  /** What was loaded, for the report (e.g. `synthetic (seed 1, 40 sequences, 1 frame in 3)`). */
  description: string;
  classNames: string[];
  train: Sequence[];
  test: Sequence[];
}

/** Label space of the model: the classes, NONE after them, padding after NONE; UNDEFINED (-1) frames are not scored. */
export function labelSpace(classes: number): LabelSpace {
  return { numClasses: classes + 1, none: classes, pad: classes + 2, ignore: [UNDEFINED_LABEL] };
}

/** Keeps every `rate`-th frame of a sequence (labels and every modality). */
export function subsampleSequence(seq: Sequence, rate: number): Sequence {
  if (rate === 1) return seq;
  const modalities: Sequence['modalities'] = {};
  for (const [name, m] of Object.entries(seq.modalities)) if (m) modalities[name] = sliceFrames(m, 0, seq.frames, rate);
  const labels = Int32Array.from({ length: Math.ceil(seq.frames / rate) }, (_, i) => seq.labels[i * rate]!);
  return { ...seq, frames: labels.length, labels, modalities };
}

/**
 * Loads the sequences of the configured dataset: the embedded synthetic world (generated
 * in memory, deterministic for its seed) or a FUTR-layout folder (features, groundTruth, mapping,
 * splits; the depth and imu partners read features_depth/ and features_imu/, the text partner
 * features_text/ when it exists, else phrases of the labels). Without split files a FUTR folder
 * is cut 70/30 in id order. `warn` gets the one line that counts videos the FUTR reader
 * truncated (default `process.emitWarning`).
 */
export async function loadAblationData(config: AblationConfig, warn?: (message: string) => void): Promise<AblationData> {
  if (config.dataset === 'synthetic') {
    const { SyntheticDataset } = await import('@r3d-ts/datasets/synthetic');
    const { seed, count, sampleRate, planted } = config.synthetic;
    const ds = new SyntheticDataset({ seed, count, splitFractions: [0.7, 0, 0.3], ...(planted ? { planted } : {}) });
    const gen = (split: 'train' | 'test') => ds.indices(split).map((i) => subsampleSequence(ds.generate(i), sampleRate));
    return {
      description: `synthetic (seed ${seed}, ${count} sequences, 1 frame in ${sampleRate} of 15 fps)`,
      classNames: [...ds.classNames],
      train: gen('train'),
      test: gen('test'),
    };
  }
  if (config.dataset === 'futr') {
    const { FutrDataset, FUTR_FOLDERS } = await import('@r3d-ts/datasets/futr');
    const root = config.data!;
    const f = config.futr;
    const modalities = ['rgb', ...config.partners.filter((p): p is 'depth' | 'text' | 'imu' => p === 'depth' || p === 'text' || p === 'imu')] as ('rgb' | 'depth' | 'text' | 'imu')[];
    // a partner whose folder is missing fails here, before any video is read (text falls back to phrases of the labels)
    for (const m of ['depth', 'imu'] as const) {
      if (modalities.includes(m) && !existsSync(join(root, FUTR_FOLDERS[m]))) {
        throw new AblationConfigError('partners', `the ${m} partner needs ${join(root, FUTR_FOLDERS[m])}/<video>.npy, and that folder does not exist (see the FUTR layout in @r3d-ts/datasets' README)`);
      }
    }
    const checker = new SequenceChecker(); // one for every split: widths must agree across them too
    const read = async (split?: string): Promise<{ names: string[]; seqs: Sequence[] }> => {
      const ds = new FutrDataset({ root, modalities, ...(f.mapping ? { mapping: f.mapping } : {}), ...(split ? { split } : {}), ...(f.level ? { level: f.level } : {}), ...(warn ? { warn } : {}), checker });
      const seqs: Sequence[] = [];
      for await (const s of ds.sequences()) seqs.push(subsampleSequence(s, f.sampleRate));
      return { names: ds.classNames, seqs };
    };
    let train: Sequence[];
    let test: Sequence[];
    let names: string[];
    if (f.trainSplit && f.testSplit) {
      const a = await read(f.trainSplit);
      const b = await read(f.testSplit);
      [train, test, names] = [a.seqs, b.seqs, a.names];
    } else {
      const all = await read();
      const cut = Math.round(0.7 * all.seqs.length);
      [train, test, names] = [all.seqs.slice(0, cut), all.seqs.slice(cut), all.names];
    }
    if (train.length === 0 || test.length === 0) throw new AblationConfigError('data', `${root}: needs training and test videos, found ${train.length} and ${test.length}`);
    return { description: `futr layout at ${root} (${train.length} train, ${test.length} test videos)`, classNames: names, train, test };
  }
  throw new AblationConfigError('dataset', `${config.dataset} has no training data (darai-demo is a rank analysis: run it with --dataset darai-demo)`);
}

/**
 * The sequences too short to give a sample at some of `ratios` (no observed frame, or no future
 * frame), which `anticipationSamples` leaves out at those ratios: the run warns with their count.
 *
 * @example
 * tooShort(data.test, config.rankObservationRatios); // [{ id: 'v7', frames: 4, ratio: 0.1 }]
 */
export function tooShort(seqs: readonly Sequence[], ratios: readonly number[]): { id: string; frames: number; ratio: number }[] {
  const out: { id: string; frames: number; ratio: number }[] = [];
  for (const seq of seqs) {
    const ratio = Math.min(...ratios);
    if (Math.floor(ratio * seq.frames) < 1 || Math.floor(0.5 * seq.frames) < 1) out.push({ id: seq.id, frames: seq.frames, ratio });
  }
  return out;
}

/** Sample modalities the model reads for a partner: RGB plus the partner, or RGB plus a zero stand-in. */
export function cellModalities(partner: Partner): { rgb: string; partner: string } {
  return { rgb: 'rgb', partner: partner === 'rgb' ? 'none' : partner };
}

/**
 * The sequences one cell's model reads: RGB and the partner as per-frame vectors (depth frames
 * flattened, as the cell's vector encoder takes them), or for the `rgb` partner a constant zero
 * stand-in `none` (one value per frame), which makes the model unimodal with the same decoder.
 * Other modalities are dropped; samples are then cut with `samplesFromSequences` of
 * `@r3d-ts/datasets`.
 */
export function cellSequences(seqs: readonly Sequence[], partner: Partner): Sequence[] {
  const keys = cellModalities(partner);
  return seqs.map((seq) => {
    const vector = (name: string): FrameModality => {
      const m = seq.modalities[name];
      if (!m) throw new AblationConfigError('partners', `sequence ${seq.id} has no ${name} modality (it has ${Object.keys(seq.modalities).join(', ')})`);
      return { dim: m.dim, data: m.data };
    };
    const stream = keys.partner === 'none' ? { dim: 1, data: new Float32Array(seq.frames) } : vector(keys.partner);
    return { ...seq, modalities: { [keys.rgb]: vector(keys.rgb), [keys.partner]: stream } };
  });
}
