// Test-only data: videos whose action transcript follows a fixed cycle, so the next action is
// predictable from the last observed one and a model can beat the majority class quickly.
import { type AnticipationSample, Rng, samplesFromSequences, type Sequence } from '@r3d-ts/datasets';
import type { LabelSpace } from '../model.js';

export interface TinyData {
  train: AnticipationSample[];
  validation: AnticipationSample[];
  labels: LabelSpace;
}

export function tinyLabels(actions: number): LabelSpace {
  return { numClasses: actions + 1, none: actions, pad: -100 };
}

/**
 * `videos` videos of 40..60 frames; actions cycle 0 -> 1 -> ... -> actions-1 -> 0 from a random
 * start, segment lengths 6..14; rgb (D dims) is a noisy class code, depth (4x4) a noisy
 * class-dependent pattern. Samples are cut by `samplesFromSequences` of `@r3d-ts/datasets`.
 */
export function tinyData(options: { seed: number; videos: number; validation: number; actions?: number; rgbDim?: number; trainRatios?: number[]; evalRatios?: number[]; labels?: LabelSpace }): TinyData {
  const actions = options.actions ?? 4;
  const labels = options.labels ?? tinyLabels(actions);
  const rng = new Rng(options.seed);
  const d = options.rgbDim ?? 16;
  const codes = Array.from({ length: actions }, () => Float32Array.from({ length: d }, () => rng.next() * 2 - 1));
  const make = (id: string): Sequence => {
    const L = 40 + rng.int(0, 20);
    const frames = new Int32Array(L);
    let a = rng.int(0, actions - 1);
    for (let t = 0; t < L; ) {
      const len = 6 + rng.int(0, 8);
      frames.fill(a, t, Math.min(L, t + len));
      t += len;
      a = (a + 1) % actions;
    }
    const rgb = new Float32Array(L * d);
    const depth = new Float32Array(L * 16);
    for (let t = 0; t < L; t++) {
      for (let k = 0; k < d; k++) rgb[t * d + k] = codes[frames[t]][k] + 0.3 * (rng.next() - 0.5);
      for (let k = 0; k < 16; k++) depth[t * 16 + k] = (k % actions === frames[t] ? 0.8 : 0.2) + 0.1 * rng.next();
    }
    return { id, frames: L, labels: frames, modalities: { rgb: { dim: d, data: rgb }, depth: { dim: 16, data: depth, shape: [4, 4] } } };
  };
  const train = Array.from({ length: options.videos }, (_, v) => make(`train-${v}`));
  const validation = Array.from({ length: options.validation }, (_, v) => make(`val-${v}`));
  return {
    train: samplesFromSequences(train, { observationRatios: options.trainRatios ?? [0.2, 0.3, 0.5], labels }),
    validation: samplesFromSequences(validation, { observationRatios: options.evalRatios ?? [0.2, 0.3], labels }),
    labels,
  };
}
