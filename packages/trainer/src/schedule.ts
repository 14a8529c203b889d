/** The learning-rate schedule of the released recipe, in epochs. */
export interface ScheduleOptions {
  /** Peak learning rate (released: 1e-3). */
  lr: number;
  /** Linear warm-up length in epochs (released: 10). */
  warmupEpochs: number;
  /** Epoch at which the cosine reaches `minLr` (released: 60 = the run length). */
  totalEpochs: number;
  /** Floor of the cosine (default 0). */
  minLr?: number;
  /** Optimiser steps per epoch; the schedule advances per step when given, else per epoch. */
  stepsPerEpoch?: number;
}

/**
 * Learning rate at a (fractional) point of training: linear warm-up from lr/warmup to lr over
 * `warmupEpochs`, then half a cosine down to `minLr` at `totalEpochs`. With `stepsPerEpoch`
 * the rate moves every step (as timm's per-update schedulers), else once per epoch.
 *
 * @example
 * const opts = { lr: 1e-3, warmupEpochs: 10, totalEpochs: 60 };
 * learningRate(opts, 0, 0);    // 1e-4 (first warm-up epoch)
 * learningRate(opts, 9, 0);    // 1e-3
 * learningRate(opts, 35, 0);   // 5e-4 (half-way down the cosine)
 */
export function learningRate(options: ScheduleOptions, epoch: number, stepInEpoch = 0): number {
  const { lr, warmupEpochs, totalEpochs } = options;
  const minLr = options.minLr ?? 0;
  const t = options.stepsPerEpoch ? epoch + stepInEpoch / options.stepsPerEpoch : epoch;
  if (warmupEpochs > 0 && t < warmupEpochs) {
    // the first step/epoch already trains, so warm-up starts at lr/warmup rather than 0
    const unit = options.stepsPerEpoch ? 1 / options.stepsPerEpoch : 1;
    return (lr * (t + unit)) / warmupEpochs;
  }
  const span = Math.max(totalEpochs - warmupEpochs, 1e-12);
  const progress = Math.min(Math.max((t - warmupEpochs) / span, 0), 1);
  return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress));
}
