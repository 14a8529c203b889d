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

  /** @param ignore ground-truth labels that are never scored (pad, UNDEFINED). */
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
 * video of L frames: (obs*L, (obs+pred)*L] in 1-based frame numbers, sliced as FUTR's evaluation
 * does, i.e. 0-based [floor(obs*L), floor(obs*L) + floor(pred*L)) (the same frames as
 * `futureGroundTruth` of `@r3d-ts/datasets`). `start` is where the future begins; `count` frames
 * are scored from there (fewer when the video ends first).
 *
 * @example
 * scoredFutureFrames(0.2, 0.1, 100); // { start: 20, count: 10 }
 */
export function scoredFutureFrames(obs: number, pred: number, videoLength: number): { start: number; count: number } {
  const start = Math.floor(obs * videoLength);
  const count = Math.max(0, Math.min(videoLength - start, Math.floor(pred * videoLength)));
  return { start, count };
}

/**
 * Turns one sample's query predictions into future frame labels, as FUTR/R3D infer: argmax
 * action per query, keep the queries before the first NONE, exp the raw durations and
 * L1-normalise them, then lay the actions out in order over `window` frames, each
 * round(share * window) long (as `decodeAnticipation` of `@r3d-ts/r3d-model` and the released
 * code): overflow is cut, frames left over keep the last action. With no action before NONE
 * every frame gets `fallback` (the released code: NONE, which never matches a true frame).
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
): Int32Array {
  const q = durations.length;
  if (actionLogits.length !== q * numClasses) throw new Error(`decodeFuture: ${actionLogits.length} logits for ${q} queries x ${numClasses} classes`);
  const actions: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < q; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (actionLogits[i * numClasses + c] > actionLogits[i * numClasses + best]) best = c;
    if (best === none) break;
    actions.push(best);
    weights.push(Math.exp(durations[i]));
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const out = new Int32Array(window).fill(actions.length > 0 ? actions[actions.length - 1] : fallback);
  if (actions.length === 0 || !(total > 0) || !Number.isFinite(total)) return out.fill(fallback);
  let start = 0;
  for (let i = 0; i < actions.length && start < window; i++) {
    // each segment is round(share * window) long, as the released decoding; overflow is cut and
    // frames left over keep the last action
    const len = Math.floor(0.5 + (window * weights[i]) / total);
    out.fill(actions[i], start, Math.min(window, start + len));
    start += len;
  }
  return out;
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
