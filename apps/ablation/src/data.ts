import { makeAnticipationSample, SequenceChecker, type Sequence } from '@r3d-ts/datasets';
import type { AnticipationSample, LabelSpace } from '@r3d-ts/trainer';
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

/** Label space of the model: the classes, NONE after them, padding after NONE. */
export function labelSpace(classes: number): LabelSpace {
  return { numClasses: classes + 1, none: classes, pad: classes + 2, ignore: [] };
}

/** Keeps every `rate`-th frame of a sequence (labels and every modality). */
export function subsampleSequence(seq: Sequence, rate: number): Sequence {
  if (rate === 1) return seq;
  const idx: number[] = [];
  for (let t = 0; t < seq.frames; t += rate) idx.push(t);
  const modalities: Sequence['modalities'] = {};
  for (const [name, m] of Object.entries(seq.modalities)) {
    if (!m) continue;
    const data = new Float32Array(idx.length * m.dim);
    idx.forEach((t, i) => data.set(m.data.subarray(t * m.dim, (t + 1) * m.dim), i * m.dim));
    modalities[name] = m.shape ? { dim: m.dim, data, shape: m.shape } : { dim: m.dim, data };
  }
  return { ...seq, frames: idx.length, labels: Int32Array.from(idx, (t) => seq.labels[t]!), modalities };
}

/**
 * Loads the sequences of the configured dataset: the embedded synthetic world (generated
 * in memory, deterministic for its seed) or a FUTR-layout folder (features, groundTruth, mapping,
 * splits). Without split files a FUTR folder is cut 70/30 in id order. `warn` gets the one line
 * that counts videos the FUTR reader truncated (default `process.emitWarning`).
 */
export async function loadAblationData(config: AblationConfig, warn?: (message: string) => void): Promise<AblationData> {
  if (config.dataset === 'synthetic') {
    const { SyntheticDataset } = await import('@r3d-ts/datasets/synthetic');
    const { seed, count, sampleRate } = config.synthetic;
    const ds = new SyntheticDataset({ seed, count, splitFractions: [0.7, 0, 0.3] });
    const gen = (split: 'train' | 'test') => ds.indices(split).map((i) => subsampleSequence(ds.generate(i), sampleRate));
    return {
      description: `synthetic (seed ${seed}, ${count} sequences, 1 frame in ${sampleRate} of 15 fps)`,
      classNames: [...ds.classNames],
      train: gen('train'),
      test: gen('test'),
    };
  }
  if (config.dataset === 'futr') {
    const { FutrDataset } = await import('@r3d-ts/datasets/futr');
    const root = config.data!;
    const f = config.futr;
    const modalities = ['rgb', ...config.partners.filter((p): p is 'depth' | 'text' => p === 'depth' || p === 'text')] as ('rgb' | 'depth' | 'text')[];
    const checker = new SequenceChecker(); // one for every split: widths must agree across them too
    const read = async (split?: string): Promise<{ names: string[]; seqs: Sequence[] }> => {
      const ds = new FutrDataset({ root, modalities, ...(f.mapping ? { mapping: f.mapping } : {}), ...(split ? { split } : {}), ...(f.level ? { level: f.level } : {}), ...(warn ? { warn } : {}), checker });
      const seqs: Sequence[] = [];
      for await (const s of ds.sequences()) seqs.push(subsampleSequence(s, f.sampleRate));
      return { names: ds.classNames, seqs };
    };
    if (config.partners.includes('imu')) throw new AblationConfigError('partners', 'the futr layout has no imu modality (rgb, depth, text)');
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
 * Anticipation samples in the trainer's form: for each sequence and observation ratio, the
 * observed frames of RGB and the partner, the future transcript (NONE-terminated, padded to 8
 * queries, durations as shares of the window, the pad value on the NONE slot and after, as the
 * released loader), and the future frame labels for MoC. UNDEFINED frames become padding so
 * losses and metrics skip them. The `rgb` partner gets a constant zero stand-in (one value per
 * frame), which makes the model unimodal with the same decoder.
 */
export function anticipationSamples(seqs: readonly Sequence[], ratios: readonly number[], partner: Partner, labels: LabelSpace, queries = 8): AnticipationSample[] {
  const out: AnticipationSample[] = [];
  const keys = cellModalities(partner);
  const mapLabel = (l: number) => (l < 0 ? labels.pad : l);
  for (const seq of seqs) {
    for (const obs of ratios) {
      if (Math.floor(obs * seq.frames) < 1 || Math.floor(0.5 * seq.frames) < 1) continue;
      const s = makeAnticipationSample(seq, { observationRatio: obs, noneClass: labels.none, padClass: labels.pad, nQueries: queries });
      const T = s.observedIndices.length;
      const modalities: AnticipationSample['modalities'] = {};
      for (const [as, from] of [['rgb', keys.rgb], [keys.partner, keys.partner]] as const) {
        if (from === 'none') {
          modalities.none = { data: new Float32Array(T), shape: [T, 1] };
          continue;
        }
        const m = s.modalities[from];
        if (!m) throw new AblationConfigError('partners', `sequence ${seq.id} has no ${from} modality (it has ${Object.keys(seq.modalities).join(', ')})`);
        modalities[as] = { data: m.data, shape: [T, m.dim] };
      }
      const targetDurations = Float32Array.from(s.durations, (d, i) => (s.durationMask[i] ? d : labels.pad));
      out.push({
        video: seq.id,
        observationRatio: obs,
        modalities,
        observedLabels: Int32Array.from(s.observedLabels, mapLabel),
        targetActions: s.actions,
        targetDurations,
        futureLabels: Int32Array.from(seq.labels.subarray(s.futureStart), mapLabel),
        videoLength: seq.frames,
      });
    }
  }
  return out;
}
