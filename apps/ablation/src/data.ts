import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type FrameModality, type Sequence, SequenceChecker, subsampleSequence, UNDEFINED_LABEL } from '@r3d-ts/datasets';
import type { LabelSpace } from '@r3d-ts/trainer';
import type { AblationConfig, Partner } from './config.js';
import { cachedData, cacheKey, generatorDigest } from './data-cache.js';
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

/**
 * One line on what a configuration's data is, for logs and reports: for the synthetic world its
 * seed, size, frame rate and, when the object decides the task, that.
 *
 * @example
 * describeData(parseAblationConfig({})); // 'synthetic (seed 1, ..., tasks decided by the object)'
 */
export function describeData(config: AblationConfig): string {
  if (config.dataset === 'synthetic') {
    const { seed, count, sampleRate, grammar } = config.synthetic;
    const rgb = [config.synthetic.rgb === 'clip' ? 'RGB features with their change since the previous kept frame' : '', config.synthetic.standardiseRgb ? 'RGB standardised per channel on the training videos' : ''].filter(Boolean);
    return `synthetic (seed ${seed}, ${count} sequences, 1 frame in ${sampleRate} of 15 fps${grammar === 'by-object' ? ', tasks decided by the object' : ''}${rgb.length ? `; ${rgb.join(', ')}` : ''})`;
  }
  return `${config.dataset} at ${config.data}`;
}

/**
 * A sequence whose `rgb` rows are each frame's features followed by their change since the
 * previous frame (zero on the first): twice as wide, the motion between kept frames made explicit.
 *
 * @example
 * withMotion(seq).modalities.rgb!.dim; // 2 * seq.modalities.rgb!.dim
 */
export function withMotion(seq: Sequence): Sequence {
  const m = seq.modalities.rgb;
  if (!m) return seq;
  const D = m.dim;
  const out = new Float32Array(seq.frames * 2 * D);
  for (let t = 0; t < seq.frames; t++) {
    const prev = Math.max(0, t - 1);
    for (let d = 0; d < D; d++) {
      out[t * 2 * D + d] = m.data[t * D + d]!;
      out[t * 2 * D + D + d] = m.data[t * D + d]! - m.data[prev * D + d]!;
    }
  }
  return { ...seq, modalities: { ...seq.modalities, rgb: { dim: 2 * D, data: out } } };
}

/**
 * Standardises modality `name` of every sequence per channel with the mean and standard
 * deviation over all frames of `train` (a channel constant there is only centred), so the test
 * videos are scaled by what training saw. Returns new sequences; the inputs are untouched.
 *
 * @example
 * const [train, test] = standardise(data.train, data.test, 'rgb');
 */
export function standardise(train: readonly Sequence[], test: readonly Sequence[], name: string): [Sequence[], Sequence[]] {
  const dim = train[0]?.modalities[name]?.dim ?? 0;
  const sum = new Float64Array(dim);
  const squares = new Float64Array(dim);
  let frames = 0;
  for (const seq of train) {
    const m = seq.modalities[name]!;
    for (let t = 0; t < seq.frames; t++) {
      for (let d = 0; d < dim; d++) {
        const v = m.data[t * dim + d]!;
        sum[d] += v;
        squares[d] += v * v;
      }
    }
    frames += seq.frames;
  }
  const mean = sum.map((s) => s / Math.max(1, frames));
  const scale = squares.map((q, d) => {
    const variance = q / Math.max(1, frames) - mean[d]! ** 2;
    return variance > 1e-12 ? 1 / Math.sqrt(variance) : 1;
  });
  const apply = (seq: Sequence): Sequence => {
    const m = seq.modalities[name];
    if (!m) return seq;
    const data = new Float32Array(m.data.length);
    for (let i = 0; i < data.length; i++) data[i] = (m.data[i]! - mean[i % dim]!) * scale[i % dim]!;
    return { ...seq, modalities: { ...seq.modalities, [name]: { ...m, data } } };
  };
  return [train.map(apply), test.map(apply)];
}

/**
 * Loads the sequences of the configured dataset: the embedded synthetic world (deterministic
 * for its options; generated once, then read from the dataset cache, see `data-cache.ts`; RGB
 * as clips and standardised as `synthetic.rgb` and `synthetic.standardiseRgb` say) or a
 * FUTR-layout folder (features, groundTruth, mapping, splits; the depth and imu partners read
 * features_depth/ and features_imu/, the text partner features_text/ when it exists, else
 * phrases of the labels). Without split files a FUTR folder is cut 70/30 in id order. `warn`
 * gets the one line that counts videos the FUTR reader truncated (default `process.emitWarning`).
 *
 * @example
 * const data = await loadAblationData(parseAblationConfig({}));
 */
export async function loadAblationData(config: AblationConfig, warn?: (message: string) => void): Promise<AblationData> {
  if (config.dataset === 'synthetic') {
    const { SyntheticDataset } = await import('@r3d-ts/datasets/synthetic');
    const { seed, count, sampleRate, planted, grammar, testFraction } = config.synthetic;
    const options = { seed, count, grammar, splitFractions: [1 - testFraction, 0, testFraction] as [number, number, number], ...(planted ? { planted } : {}) };
    // every cell, worker and later run with these options reads the same generated videos
    const key = cacheKey({ kind: 'ablation-synthetic', options, sampleRate, generator: generatorDigest('@r3d-ts/datasets/synthetic') });
    const { data } = await cachedData(key, () => {
      const ds = new SyntheticDataset(options);
      const gen = (split: 'train' | 'test') => ds.indices(split).map((i) => ds.generate(i, { keepEvery: sampleRate }));
      return { facts: { classNames: [...ds.classNames] }, splits: { train: gen('train'), test: gen('test') } };
    });
    let [train, test] = [data.splits.train!, data.splits.test!];
    if (config.synthetic.rgb === 'clip') [train, test] = [train.map(withMotion), test.map(withMotion)];
    if (config.synthetic.standardiseRgb) [train, test] = standardise(train, test, 'rgb');
    return { description: describeData(config), classNames: [...(data.facts.classNames as string[])], train, test };
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
