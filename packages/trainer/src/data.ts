import { type AnticipationTargets, makeAnticipationSample, type Sequence, UNDEFINED_LABEL } from '@r3d-ts/datasets';
import type { AnticipationSample, LabelSpace } from './model.js';

export interface SamplesFromSequencesOptions {
  /** One sample per sequence and ratio (training: {0.2, 0.3, 0.5}; evaluation: {0.2, 0.3}). */
  observationRatios: readonly number[];
  /** NONE and padding class indices of the model. */
  labels: Pick<LabelSpace, 'none' | 'pad'>;
  /** Keep every n-th observed frame (default 1). */
  sampleRate?: number;
  /** Queries per sample (default 8). */
  nQueries?: number;
  /** Target window as a share of L (default 0.5). */
  anticipationRatio?: number;
  /** Modalities to keep (default: all the sequence has). */
  modalities?: readonly string[];
  /** Target construction (default `'released'`; see `AnticipationTargets` of `@r3d-ts/datasets`). */
  targets?: AnticipationTargets;
}

/**
 * Cuts trainer samples out of `@r3d-ts/datasets` sequences with its `makeAnticipationSample`
 * (int(obs * L) observed frames; the next 0.5 L, sub-sampled as the released loaders do, collapsed
 * into an 8-query transcript + NONE),
 * keeping what evaluation needs (the future frame labels and L). Durations of the NONE and
 * padding slots carry the pad value, the released convention `r3dLoss` masks by. Frame labels
 * keep UNDEFINED as -1 (`UNDEFINED_LABEL`), which `r3dTrainable` ignores.
 *
 * @example
 * const ds = new SyntheticDataset({ seed: 1, count: 40 });
 * const train = samplesFromSequences(ds.split('train'), { observationRatios: [0.2, 0.3, 0.5], labels });
 */
export function samplesFromSequences(sequences: readonly Sequence[], options: SamplesFromSequencesOptions): AnticipationSample[] {
  const out: AnticipationSample[] = [];
  for (const seq of sequences) {
    for (const obs of options.observationRatios) {
      const s = makeAnticipationSample(seq, {
        observationRatio: obs,
        predictionRatio: options.anticipationRatio ?? 0.5,
        sampleRate: options.sampleRate ?? 1,
        nQueries: options.nQueries ?? 8,
        noneClass: options.labels.none,
        padClass: options.labels.pad,
        targets: options.targets ?? 'released',
      });
      const T = s.observedIndices.length;
      const modalities: AnticipationSample['modalities'] = {};
      for (const [name, m] of Object.entries(s.modalities)) {
        if (options.modalities && !options.modalities.includes(name)) continue;
        modalities[name] = { data: m.data, shape: [T, ...(m.shape ?? [m.dim])] };
      }
      if (options.modalities) {
        for (const name of options.modalities) if (!modalities[name]) throw new Error(`samplesFromSequences: sequence ${seq.id} has no modality "${name}" (it has ${Object.keys(s.modalities).join(', ')})`);
      }
      out.push({
        video: seq.id,
        observationRatio: obs,
        modalities,
        observedLabels: s.observedLabels,
        targetActions: s.actions,
        targetDurations: Float32Array.from(s.durations, (d, i) => (s.durationMask[i] ? d : options.labels.pad)),
        futureLabels: seq.labels.slice(s.observedLength),
        videoLength: seq.frames,
      });
    }
  }
  return out;
}

export { UNDEFINED_LABEL };
