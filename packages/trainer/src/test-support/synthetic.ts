// Test-only data: videos whose action transcript follows a fixed cycle, so the next action is
// predictable from the last observed one and a model can beat the majority class quickly.
import { Rng } from '@r3d-ts/datasets';
import type { AnticipationSample, LabelSpace } from '../model.js';

export interface TinyData {
  train: AnticipationSample[];
  validation: AnticipationSample[];
  labels: LabelSpace;
}

export function tinyLabels(actions: number): LabelSpace {
  return { numClasses: actions + 1, none: actions, pad: -100 };
}

/** One video -> anticipation samples at the given observation ratios. */
export function samplesOf(video: string, frames: Int32Array, modalities: Record<string, { data: Float32Array; perFrame: number[] }>, ratios: number[], labels: LabelSpace, queries = 8): AnticipationSample[] {
  const L = frames.length;
  return ratios.map((obs) => {
    const nObs = Math.floor(obs * L + 1e-9);
    const win = Math.floor(0.5 * L + 1e-9);
    const future = frames.subarray(nObs, nObs + win);
    const acts: number[] = [];
    const lens: number[] = [];
    for (let i = 0; i < future.length; i++) {
      if (i === 0 || future[i] !== future[i - 1]) {
        acts.push(future[i]);
        lens.push(0);
      }
      lens[lens.length - 1] += 1;
    }
    const targetActions = new Int32Array(queries).fill(labels.pad);
    const targetDurations = new Float32Array(queries);
    acts.slice(0, queries).forEach((a, i) => {
      targetActions[i] = a;
      targetDurations[i] = lens[i] / future.length;
    });
    // released convention: the NONE slot and padding carry the pad value as duration
    for (let i = acts.length; i < queries; i++) targetDurations[i] = labels.pad;
    if (acts.length < queries) targetActions[acts.length] = labels.none;
    const mods: AnticipationSample['modalities'] = {};
    for (const [name, m] of Object.entries(modalities)) {
      const per = m.perFrame.reduce((a, b) => a * b, 1);
      mods[name] = { data: m.data.slice(0, nObs * per), shape: [nObs, ...m.perFrame] };
    }
    return {
      video,
      observationRatio: obs,
      modalities: mods,
      observedLabels: frames.slice(0, nObs),
      targetActions,
      targetDurations,
      futureLabels: frames.slice(nObs),
      videoLength: L,
    };
  });
}

/**
 * `videos` videos of 40..60 frames; actions cycle 0 -> 1 -> ... -> actions-1 -> 0 from a random
 * start, segment lengths 6..14; rgb (D dims) is a noisy class code, depth (4x4) a noisy
 * class-dependent pattern.
 */
export function tinyData(options: { seed: number; videos: number; validation: number; actions?: number; rgbDim?: number; trainRatios?: number[]; evalRatios?: number[]; labels?: LabelSpace }): TinyData {
  const actions = options.actions ?? 4;
  const labels = options.labels ?? tinyLabels(actions);
  const rng = new Rng(options.seed);
  const d = options.rgbDim ?? 16;
  const codes = Array.from({ length: actions }, () => Float32Array.from({ length: d }, () => rng.next() * 2 - 1));
  const make = (name: string, ratios: number[]): AnticipationSample[] => {
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
    return samplesOf(name, frames, { rgb: { data: rgb, perFrame: [d] }, depth: { data: depth, perFrame: [4, 4] } }, ratios, labels);
  };
  const train: AnticipationSample[] = [];
  for (let v = 0; v < options.videos; v++) train.push(...make(`train-${v}`, options.trainRatios ?? [0.2, 0.3, 0.5]));
  const validation: AnticipationSample[] = [];
  for (let v = 0; v < options.validation; v++) validation.push(...make(`val-${v}`, options.evalRatios ?? [0.2, 0.3]));
  return { train, validation, labels };
}
