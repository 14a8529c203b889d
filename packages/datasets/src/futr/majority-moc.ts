/**
 * Frames the released evaluation scores for observation ratio `obs` and prediction ratio `pred`
 * of a video of L frames: from `int(obs L)`, up to `min(int((obs + pred) L), int(obs L) +
 * int(anticipation L), L)`. The same arithmetic as the trainer's `scoredFutureFrames` (Python's
 * float order included: `obs + pred` first), repeated here because this package cannot import
 * the trainer.
 *
 * @example
 * scoredWindow(0.2, 0.1, 100); // { start: 20, count: 10 }
 */
export function scoredWindow(obs: number, pred: number, videoLength: number, anticipationRatio = 0.5): { start: number; count: number } {
  const start = Math.trunc(obs * videoLength);
  const end = Math.min(Math.trunc((obs + pred) * videoLength), start + Math.trunc(anticipationRatio * videoLength), videoLength);
  return { start, count: Math.max(0, end - start) };
}

/** Whether a video of `frames` frames gives an anticipation sample at observation ratio `obs` (as `samplesFromSequences` decides). */
export function givesSample(frames: number, obs: number, anticipationRatio = 0.5): boolean {
  return Math.floor(obs * frames) >= 1 && Math.floor(anticipationRatio * frames) >= 1;
}

/**
 * Expected MoC of a model that predicts `majority` for every future frame, scored as the
 * trainer's `evaluateAnticipation` scores a model under the released protocol: per (obs, pred)
 * cell, over the test videos that give a sample at `obs`, the scored window's frames are tallied
 * per ground-truth class (UNDEFINED, -1, is a class, as in the released evaluation); the cell's
 * MoC is the mean over the classes present of correct/total, which for a constant prediction is
 * 1 / (classes present) when `majority` is present and 0 otherwise. The result is the mean of
 * the cells that scored a frame (NaN when none did), the number the trainer reports as `meanMoc`.
 *
 * @example
 * // one video of 10 frames, [0 x 5, 1 x 5]: at obs 0.2 the windows hold class 0, then 0 and 1
 * majorityMoc([Int32Array.of(0, 0, 0, 0, 0, 1, 1, 1, 1, 1)], 0, [0.2], [0.1, 0.5]); // (1 + 1/2) / 2
 */
export function majorityMoc(testLabels: Iterable<ArrayLike<number>>, majority: number, observationRatios: readonly number[], predictionRatios: readonly number[], anticipationRatio = 0.5): number {
  const cells = observationRatios.flatMap(() => predictionRatios.map(() => new Set<number>()));
  for (const labels of testLabels) {
    const L = labels.length;
    observationRatios.forEach((obs, i) => {
      if (!givesSample(L, obs, anticipationRatio)) return;
      predictionRatios.forEach((pred, j) => {
        const { start, count } = scoredWindow(obs, pred, L, anticipationRatio);
        const present = cells[i * predictionRatios.length + j]!;
        for (let t = start; t < start + count; t++) present.add(labels[t]!);
      });
    });
  }
  const scored = cells.filter((present) => present.size > 0);
  if (scored.length === 0) return Number.NaN;
  return scored.reduce((sum, present) => sum + (present.has(majority) ? 1 / present.size : 0), 0) / scored.length;
}
