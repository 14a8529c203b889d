import { decodeFutureFrames, type AnticipationProtocol } from '@r3d-ts/r3d-model';

/** Per-class tallies behind a MoC figure. */
export interface ClassTally {
  correct: number;
  total: number;
}

export interface MocResult {
  /** Mean over classes of frame accuracy, over classes present in the ground truth (NaN if none). */
  moc: number;
  /** class -> correct/total, for classes present in the ground truth only. */
  perClass: Map<number, ClassTally>;
  /** Frames scored. */
  frames: number;
}

/**
 * Accumulates mean-over-classes (MoC) frame accuracy the way anticipation papers report it:
 * per class, correct and total frames are summed over all test videos first, then the accuracy
 * of every class that occurs in the ground truth is averaged. A class that is only predicted
 * (never in the ground truth) adds no term; its frames only count as errors of the true class.
 *
 * @example
 * const acc = new MocAccumulator();
 * acc.add([0, 0, 1, 1], [0, 1, 1, 1]); // class 0: 1/2, class 1: 2/2
 * acc.result().moc;                     // 0.75
 */
export class MocAccumulator {
  private readonly tallies = new Map<number, ClassTally>();
  private readonly ignore: Set<number>;
  private frames = 0;

  /** @param ignore ground-truth labels that are never scored (pad; UNDEFINED too under the corrected protocol). */
  constructor(ignore: Iterable<number> = []) {
    this.ignore = new Set(ignore);
  }

  /** Adds one video's frames; both arrays are compared over the shorter length. */
  add(groundTruth: ArrayLike<number>, predicted: ArrayLike<number>): void {
    if (groundTruth.length !== predicted.length) {
      throw new Error(`MocAccumulator.add: ${groundTruth.length} ground-truth frames but ${predicted.length} predicted`);
    }
    for (let i = 0; i < groundTruth.length; i++) {
      const g = groundTruth[i];
      if (this.ignore.has(g)) continue;
      let t = this.tallies.get(g);
      if (!t) {
        t = { correct: 0, total: 0 };
        this.tallies.set(g, t);
      }
      t.total += 1;
      if (predicted[i] === g) t.correct += 1;
      this.frames += 1;
    }
  }

  result(): MocResult {
    const perClass = new Map([...this.tallies.entries()].sort((a, b) => a[0] - b[0]).map(([c, t]) => [c, { ...t }]));
    let sum = 0;
    for (const t of perClass.values()) sum += t.correct / t.total;
    return { moc: perClass.size > 0 ? sum / perClass.size : Number.NaN, perClass, frames: this.frames };
  }
}

/**
 * MoC of a list of (ground truth, prediction) frame-label pairs, one pair per video.
 *
 * @example
 * meanOverClasses([{ groundTruth: [2, 2, 3], predicted: [2, 0, 3] }]).moc; // (1/2 + 1/1) / 2 = 0.75
 */
export function meanOverClasses(
  videos: ReadonlyArray<{ groundTruth: ArrayLike<number>; predicted: ArrayLike<number> }>,
  options: { ignore?: Iterable<number> } = {},
): MocResult {
  const acc = new MocAccumulator(options.ignore);
  for (const v of videos) acc.add(v.groundTruth, v.predicted);
  return acc.result();
}

/**
 * Frames a prediction is scored on for observation ratio `obs` and prediction ratio `pred` of a
 * video of L frames, as the released evaluation (`predict` + `utils.eval_file`) slices them: the
 * prediction (observed ground truth + `int(anticipationRatio * L)` decoded frames) is cut at
 * `int((obs + pred) * L)`, and frames from `int(obs * L)` to
 * `min(int((obs + pred) * L), len(prediction), L)` are scored. Python's float arithmetic is part of
 * the protocol: `(obs + pred)` is added first, so 0.2 + 0.1 = 0.30000000000000004 and L = 7 scores
 * 1 frame, L = 1234 scores 124 (not floor(0.1 L) = 0 and 123). `start` is where the future
 * begins; `count` frames are scored from there.
 *
 * @example
 * scoredFutureFrames(0.2, 0.1, 100); // { start: 20, count: 10 }
 * scoredFutureFrames(0.2, 0.1, 7);   // { start: 1, count: 1 }
 */
export function scoredFutureFrames(obs: number, pred: number, videoLength: number, anticipationRatio = 0.5): { start: number; count: number } {
  const start = Math.trunc(obs * videoLength);
  const end = Math.min(Math.trunc((obs + pred) * videoLength), start + Math.trunc(anticipationRatio * videoLength), videoLength);
  return { start, count: Math.max(0, end - start) };
}

/**
 * Turns one sample's query predictions into `window` future frame labels as the released
 * `predict` does (`decodeFutureFrames` of `@r3d-ts/r3d-model`): argmax action per query; durations
 * exp'd, zeroed from the first NONE on, L1-normalised (float32); every query laid out in order,
 * `int(0.5 + share * window)` frames each; the last query's action fills from its start to the end
 * (so rounding leftovers take the last query's action, and a transcript starting with NONE gives
 * the last query's action everywhere). With `protocol: 'corrected'` leftovers keep the last action
 * before NONE and a transcript starting with NONE gives `fallback` everywhere.
 *
 * @example
 * // 2 queries, 3 classes (NONE = 2): action 0 for 1/4 and action 1 for 3/4 of 8 frames
 * decodeFuture(new Float32Array([9, 0, 0, 0, 9, 0]), new Float32Array([Math.log(1), Math.log(3)]), 3, 2, 8, 0);
 * // -> [0, 0, 1, 1, 1, 1, 1, 1]
 */
export function decodeFuture(
  actionLogits: ArrayLike<number>,
  durations: ArrayLike<number>,
  numClasses: number,
  none: number,
  window: number,
  fallback: number,
  options: { protocol?: AnticipationProtocol } = {},
): Int32Array {
  const q = durations.length;
  if (actionLogits.length !== q * numClasses) throw new Error(`decodeFuture: ${actionLogits.length} logits for ${q} queries x ${numClasses} classes`);
  return decodeFutureFrames(actionLogits, durations, { numClasses, noneIndex: none, futureFrames: window, fallback, protocol: options.protocol ?? 'released' });
}

/**
 * Frame accuracy of observed-frame segmentation: the share of real, scored frames whose argmax
 * label equals the ground truth (frames labelled with an ignored label are skipped).
 *
 * @example
 * segmentationAccuracy([0, 1, 1], [0, 1, 0]); // 2/3
 */
export function segmentationAccuracy(groundTruth: ArrayLike<number>, predicted: ArrayLike<number>, ignore: Iterable<number> = []): { correct: number; total: number } {
  const skip = new Set(ignore);
  let correct = 0;
  let total = 0;
  for (let i = 0; i < groundTruth.length; i++) {
    if (skip.has(groundTruth[i])) continue;
    total += 1;
    if (predicted[i] === groundTruth[i]) correct += 1;
  }
  return { correct, total };
}
