import { sliceFrames, UNDEFINED_LABEL, type FrameModality, type Sequence } from './sequence.js';

/**
 * How training targets are built. `'released'` (default): as the authors' loaders
 * (`_make_input`, `seq2transcript` of olivesgatech/R3D) — the future window is sub-sampled by the
 * sample rate before it is collapsed, so boundaries fall on the sub-sampled grid and a segment
 * shorter than the rate can vanish; UNDEFINED segments stay in the transcript (the losses ignore
 * their action); the transition compares the last *kept* observed label. `'full-rate'`: the
 * full-rate window is collapsed, UNDEFINED segments are dropped, the transition compares the last
 * observed frame (this package's construction before the released one was matched).
 */
export type AnticipationTargets = 'released' | 'full-rate';

/** How to cut one anticipation sample out of a sequence (METHOD.md §3). */
export interface AnticipationOptions {
  /** Fraction of the video observed: the first floor(obs * L) frames. */
  observationRatio: number;
  /** Fraction of the video to anticipate after the observation (default 0.5). */
  predictionRatio?: number;
  /** Keep every `sampleRate`-th observed frame, starting at frame 0 (default 1). */
  sampleRate?: number;
  /** Number of action queries: the future transcript is padded or cut to this (default 8). */
  nQueries?: number;
  /** Class index that ends a transcript. */
  noneClass: number;
  /** Class index of padding queries (ignored by the losses). */
  padClass: number;
  /** Weight of a sample whose first future action differs from its last observed one (default 10). */
  transitionWeight?: number;
  /** Target construction (default `'released'`, see `AnticipationTargets`). */
  targets?: AnticipationTargets;
}

/**
 * One anticipation sample, the one sample type of the repository: the observed frames of each
 * modality with their labels, the future transcript the model is trained on, and the future frame
 * labels it is scored on. `@r3d-ts/trainer` batches these (`collate`).
 */
export interface AnticipationSample {
  id: string;
  observationRatio: number;
  /** floor(obs * L): observed frames before sub-sampling. */
  observedLength: number;
  /** Indices of the kept observed frames (0, sr, 2 sr, ... < observedLength). */
  observedIndices: Int32Array;
  /** Each modality's rows at `observedIndices`. */
  modalities: Record<string, FrameModality>;
  /** Frame labels at `observedIndices` (-1 = UNDEFINED, ignored by the loss). */
  observedLabels: Int32Array;
  /** The future window [futureStart, futureEnd) in frames. */
  futureStart: number;
  futureEnd: number;
  /** Every frame label from `futureStart` to the end of the sequence: what MoC is scored on (-1 = UNDEFINED, scored and never matched under the released protocol, skipped under the corrected one). */
  futureLabels: Int32Array;
  /** L, the sequence's length in frames. */
  videoLength: number;
  /** nQueries actions: the future transcript, then NONE, then `padClass` (released targets: UNDEFINED segments included as -1). */
  actions: Int32Array;
  /** Relative durations (run length / length of the window the transcript was collapsed from), 0 elsewhere. */
  durations: Float32Array;
  /** 1 where `durations` holds a real segment (the MSE runs over these; the released loader writes the pad index elsewhere). */
  durationMask: Uint8Array;
  /** Label of the last kept (sub-sampled) observed frame (`'full-rate'` targets: the last observed frame) and whether the first future action differs. */
  lastObservedAction: number;
  transition: boolean;
  /** Query-loss weight: `transitionWeight` on a transition, else 1. */
  weight: number;
}

/**
 * Collapses frame labels into (action, run length) segments, in order.
 *
 * @example
 * collapseSegments(Int32Array.from([3, 3, 5, 5, 5])); // [{ action: 3, length: 2 }, { action: 5, length: 3 }]
 */
export function collapseSegments(labels: ArrayLike<number>): { action: number; length: number }[] {
  const out: { action: number; length: number }[] = [];
  for (let i = 0; i < labels.length; i++) {
    const a = labels[i]!;
    const last = out[out.length - 1];
    if (last && last.action === a) last.length++;
    else out.push({ action: a, length: 1 });
  }
  return out;
}

/**
 * Cuts an anticipation sample from a sequence as the released R3D loaders (`_make_input`) do:
 * observe the first int(obs * L) frames sub-sampled by `sampleRate` (frames 0, sr, 2 sr, ...);
 * the future window is the next int(pred * L) frames (pred = 0.5), sub-sampled the same way and
 * only then collapsed into (action, run length / sub-sampled length) segments; NONE is appended
 * and the list is padded with `padClass` or cut to `nQueries`. UNDEFINED (-1) segments stay in
 * the transcript, as the released class does (the losses ignore their action). The sample weighs
 * `transitionWeight` (10) when the first future action differs from the last kept observed
 * label, else 1. `targets: 'full-rate'` collapses the full-rate window instead (see
 * `AnticipationTargets`).
 *
 * @example
 * const s = makeAnticipationSample(seq, { observationRatio: 0.2, sampleRate: 15, noneClass: 11, padClass: 12 });
 * s.actions; // e.g. Int32Array [4, 6, 7, 11, 12, 12, 12, 12]
 */
export function makeAnticipationSample(sequence: Sequence, options: AnticipationOptions): AnticipationSample {
  const { observationRatio: obs, noneClass, padClass } = options;
  const pred = options.predictionRatio ?? 0.5;
  const sr = options.sampleRate ?? 1;
  const nQ = options.nQueries ?? 8;
  const targets = options.targets ?? 'released';
  const L = sequence.frames;
  if (!(obs > 0 && obs < 1)) throw new RangeError(`observationRatio must be in (0, 1), got ${obs}`);
  if (!(pred > 0)) throw new RangeError(`predictionRatio must be positive, got ${pred}`);
  if (!(Number.isInteger(sr) && sr >= 1)) throw new RangeError(`sampleRate must be a positive integer, got ${sr}`);
  if (!(Number.isInteger(nQ) && nQ >= 1)) throw new RangeError(`nQueries must be a positive integer, got ${nQ}`);
  if (targets !== 'released' && targets !== 'full-rate') throw new RangeError(`targets must be 'released' or 'full-rate', got ${String(targets)}`);
  const observedLength = Math.floor(obs * L);
  const futureLength = Math.floor(pred * L);
  if (observedLength < 1) throw new RangeError(`${sequence.id}: ${L} frames x observation ratio ${obs} observes no frame`);
  if (futureLength < 1) throw new RangeError(`${sequence.id}: ${L} frames x prediction ratio ${pred} leaves no future frame`);
  const futureStart = observedLength;
  const futureEnd = Math.min(L, observedLength + futureLength);

  const idx: number[] = [];
  for (let t = 0; t < observedLength; t += sr) idx.push(t);
  const observedIndices = Int32Array.from(idx);
  const observedLabels = Int32Array.from(idx, (t) => sequence.labels[t]!);
  const modalities: Record<string, FrameModality> = {};
  for (const [k, m] of Object.entries(sequence.modalities)) if (m) modalities[k] = sliceFrames(m, 0, observedLength, sr);

  // released: future_content[::sample_rate] before seq2transcript, durations over its length
  const window: number[] = [];
  for (let t = futureStart; t < futureEnd; t += targets === 'released' ? sr : 1) window.push(sequence.labels[t]!);
  const collapsed = collapseSegments(window);
  const segments = targets === 'released' ? collapsed : collapsed.filter((s) => s.action !== UNDEFINED_LABEL);
  const actions = new Int32Array(nQ).fill(padClass);
  const durations = new Float32Array(nQ);
  const durationMask = new Uint8Array(nQ);
  segments.slice(0, nQ).forEach((s, i) => {
    actions[i] = s.action;
    durations[i] = s.length / window.length;
    durationMask[i] = 1;
  });
  if (segments.length < nQ) actions[segments.length] = noneClass;

  // released: the last non-pad entry of the sub-sampled past_label against target[0]
  const lastObservedAction = targets === 'released' ? observedLabels[observedLabels.length - 1]! : sequence.labels[observedLength - 1]!;
  const transition = segments.length > 0 && segments[0]!.action !== lastObservedAction;
  return {
    id: sequence.id,
    observationRatio: obs,
    observedLength,
    observedIndices,
    modalities,
    observedLabels,
    futureStart,
    futureEnd,
    futureLabels: sequence.labels.slice(futureStart),
    videoLength: L,
    actions,
    durations,
    durationMask,
    lastObservedAction,
    transition,
    weight: transition ? (options.transitionWeight ?? 10) : 1,
  };
}

/**
 * The ground-truth frames the metric scores for an (observation, prediction) pair, as the
 * released evaluation slices them (`predict` + `utils.eval_file`): from int(obs * L) up to
 * min(int((obs + pred) * L), int(obs * L) + int(anticipation * L), L), with Python's float
 * arithmetic (so obs 0.2 + pred 0.1 is 0.30000000000000004: L = 7 scores 1 frame, L = 1234 scores
 * 124). `anticipationRatio` is the decoded window (0.5 L released), which the prediction ends with.
 *
 * @example
 * futureGroundTruth(seq.labels, 0.2, 0.5); // { start, end, labels }
 */
export function futureGroundTruth(labels: Int32Array, observationRatio: number, predictionRatio: number, options: { anticipationRatio?: number } = {}): { start: number; end: number; labels: Int32Array } {
  const L = labels.length;
  const start = Math.trunc(observationRatio * L);
  // (obs + pred) first, then * L, as Python evaluates int((obs_p + p) * vid_len)
  const cut = Math.trunc((observationRatio + predictionRatio) * L);
  const end = Math.max(start, Math.min(cut, start + Math.trunc((options.anticipationRatio ?? 0.5) * L), L));
  return { start, end, labels: labels.slice(start, end) };
}

/**
 * Every (observation, prediction) window of the paper's evaluation grid for one sequence
 * (obs in {0.2, 0.3} x pred in {0.1, 0.2, 0.3, 0.5} by default), as `futureGroundTruth` cuts them.
 *
 * @example
 * evaluationWindows(seq.labels).map((w) => w.labels.length); // 8 windows
 */
export function evaluationWindows(
  labels: Int32Array,
  observationRatios: readonly number[] = [0.2, 0.3],
  predictionRatios: readonly number[] = [0.1, 0.2, 0.3, 0.5],
  options: { anticipationRatio?: number } = {},
) {
  return observationRatios.flatMap((obs) => predictionRatios.map((pred) => ({ observationRatio: obs, predictionRatio: pred, ...futureGroundTruth(labels, obs, pred, options) })));
}

/** How `samplesFromSequences` cuts samples: the ratios, the model's NONE and padding classes, and what to keep. */
export interface SamplesFromSequencesOptions {
  /** One sample per sequence and ratio (training: {0.2, 0.3, 0.5}; evaluation: {0.2, 0.3}). */
  observationRatios: readonly number[];
  /** NONE and padding class indices of the model. */
  labels: { none: number; pad: number };
  /** Keep every n-th observed frame (default 1). */
  sampleRate?: number;
  /** Queries per sample (default 8). */
  nQueries?: number;
  /** Target window as a share of L (default 0.5): each sample's `predictionRatio`. */
  anticipationRatio?: number;
  /** Modalities to keep (default: all the sequence has); a sequence lacking one is an error. */
  modalities?: readonly string[];
  /** Target construction (default `'released'`, see `AnticipationTargets`). */
  targets?: AnticipationTargets;
}

/**
 * Cuts anticipation samples out of sequences with `makeAnticipationSample`, one per sequence and
 * observation ratio, keeping only the requested modalities. A sequence too short for a ratio (no
 * observed frame, or no future frame) gives no sample at that ratio.
 *
 * UNDEFINED policy: UNDEFINED frames keep `UNDEFINED_LABEL` (-1) in `observedLabels` and
 * `futureLabels` (and, with the released targets, stay in the future transcript as -1; `'full-rate'`
 * targets leave them out); nothing maps them to the padding
 * class. The losses skip -1 (the R3D model's losses always do); the trainer's MoC scores it as the
 * released evaluation does (a class no model predicts) or, under the corrected protocol, skips it.
 *
 * @example
 * const ds = new SyntheticDataset({ seed: 1, count: 40 });
 * const train = samplesFromSequences(ds.split('train'), { observationRatios: [0.2, 0.3, 0.5], labels: { none: 11, pad: 12 } });
 */
export function samplesFromSequences(sequences: readonly Sequence[], options: SamplesFromSequencesOptions): AnticipationSample[] {
  const pred = options.anticipationRatio ?? 0.5;
  const out: AnticipationSample[] = [];
  for (const seq of sequences) {
    let kept = seq;
    if (options.modalities) {
      const missing = options.modalities.filter((name) => !seq.modalities[name]);
      if (missing.length > 0) throw new RangeError(`samplesFromSequences: sequence ${seq.id} has no modality "${missing[0]}" (it has ${Object.keys(seq.modalities).join(', ')})`);
      kept = { ...seq, modalities: Object.fromEntries(options.modalities.map((name) => [name, seq.modalities[name]])) };
    }
    for (const obs of options.observationRatios) {
      if (Math.floor(obs * seq.frames) < 1 || Math.floor(pred * seq.frames) < 1) continue;
      out.push(makeAnticipationSample(kept, {
        observationRatio: obs,
        predictionRatio: pred,
        sampleRate: options.sampleRate ?? 1,
        nQueries: options.nQueries ?? 8,
        noneClass: options.labels.none,
        padClass: options.labels.pad,
        targets: options.targets ?? 'released',
      }));
    }
  }
  return out;
}
