import { selectBackend } from '@r3d-ts/backend';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateAnticipation } from './evaluate.js';
import type { AnticipationSample } from '@r3d-ts/datasets';
import type { AnticipationProtocol } from '@r3d-ts/r3d-model';
import type { LabelSpace, TrainableModel } from './model.js';

// Golden tests of MoC against the released evaluation of olivesgatech/R3D
// (`evaluation/predict_darai.py`, `predict_utkinects.py`: `predict`; `utils.py`: `eval_file`,
// `normalize_duration`). `releasedPredict` below transliterates that Python line by line on label
// *names*, with torch's float32 tensor arithmetic emulated by Math.fround, and shares no code with
// this package. The project's side is the whole composition `evaluateAnticipation` runs.

const f = Math.fround;

/** One video as the released code sees it: its frame labels (names) and the model's outputs for it. */
interface ReleasedVideo {
  allContent: string[];
  /** Q rows of n_class logits (the released model's classes: the mapping, then NONE). */
  outputAction: number[][];
  /** Q raw durations (float32). */
  outputDur: number[];
}

/** `utils.eval_file`. */
function evalFile(gtContent: string[], recogContent: string[], obsPercentage: number, classes: Record<string, number>, nClasses: number): [number[], number[]] {
  const lastFrame = Math.min(recogContent.length, gtContent.length);
  const from = Math.trunc(obsPercentage * gtContent.length);
  const recognized = recogContent.slice(from, Math.max(from, lastFrame));
  const groundTruth = gtContent.slice(from, Math.max(from, lastFrame));
  const nT = new Array<number>(nClasses).fill(0);
  const nF = new Array<number>(nClasses).fill(0);
  for (let i = 0; i < groundTruth.length; i++) {
    groundTruth[i] = groundTruth[i]!.replaceAll(' ', '');
    if (groundTruth[i] === recognized[i]) nT[classes[groundTruth[i]!]!]! += 1;
    else nF[classes[groundTruth[i]!]!]! += 1;
  }
  return [nT, nF];
}

/** Python's `a[start:end] = value` for non-negative bounds. */
function sliceAssign(a: number[], start: number, end: number, value: number): void {
  for (let i = Math.min(start, a.length); i < Math.min(end, a.length); i++) a[i] = value;
}

/** `predict(model, vid_list, args, obs_p, n_class, actions_dict, ...)`: the MoC of each eval_p. */
function releasedPredict(videos: ReleasedVideo[], obsP: number, nClass: number, actionsDict: Record<string, number>): number[] {
  const evalP = [0.1, 0.2, 0.3, 0.5];
  const predP = 0.5;
  const NONE = nClass - 1;
  const nActions = Object.keys(actionsDict).length;
  const TActions = evalP.map(() => new Array<number>(nActions).fill(0));
  const FActions = evalP.map(() => new Array<number>(nActions).fill(0));
  const actionsDictWithNone: Record<string, number> = { ...actionsDict, NONE };
  const keys = Object.keys(actionsDictWithNone);
  const values = Object.values(actionsDictWithNone);

  for (const vid of videos) {
    const allContent = vid.allContent;
    const vidLen = allContent.length;
    const pastLen = Math.trunc(obsP * vidLen);
    const futureLen = Math.trunc(predP * vidLen);
    const pastSeq = allContent.slice(0, pastLen);

    // output_label = output_action.max(-1)[1] (the first maximum)
    const outputLabel = vid.outputAction.map((row) => row.reduce((best, v, c) => (v > row[best]! ? c : best), 0));
    let noneIdx: number | null = null;
    for (let i = 0; i < outputLabel.length; i++) {
      if (outputLabel[i] === NONE) {
        noneIdx = i;
        break;
      }
    }
    const mask = outputLabel.map((_, i) => (noneIdx === null || i < noneIdx ? 1 : 0));
    // normalize_duration: torch.exp(input) * mask, then F.normalize(p=1, dim=-1)
    const input = vid.outputDur.map((d, i) => f(f(Math.exp(f(d))) * mask[i]!));
    let norm = 0;
    for (const x of input) norm = f(norm + Math.abs(x));
    const outputDur = input.map((x) => f(x / Math.max(norm, f(1e-12))));

    // pred_len = (0.5 + future_len * output_dur).squeeze(-1).long(); torch.cat((zeros(1), pred_len))
    const predLen = [0, ...outputDur.map((d) => Math.trunc(f(0.5 + f(futureLen * d))))];
    const predicted = new Array<number>(futureLen).fill(1); // torch.ones(future_len)
    const action = outputLabel;
    for (let i = 0; i < action.length; i++) {
      sliceAssign(predicted, Math.trunc(predLen[i]!), Math.trunc(predLen[i]! + predLen[i + 1]!), action[i]!);
      predLen[i + 1] = predLen[i]! + predLen[i + 1]!;
      if (i === action.length - 1) sliceAssign(predicted, Math.trunc(predLen[i]!), futureLen, action[i]!);
    }

    const prediction = [...pastSeq, ...predicted.map((p) => keys[values.indexOf(p)]!)];
    for (let i = 0; i < evalP.length; i++) {
      const p = evalP[i]!;
      const evalLen = Math.trunc((obsP + p) * vidLen);
      const evalPrediction = prediction.slice(0, evalLen);
      const [T, F] = evalFile(allContent, evalPrediction, obsP, actionsDict, nActions);
      for (let j = 0; j < nActions; j++) {
        TActions[i]![j]! += T[j]!;
        FActions[i]![j]! += F[j]!;
      }
    }
  }
  return evalP.map((_, i) => {
    let acc = 0;
    let n = 0;
    for (let j = 0; j < nActions; j++) {
      const total = TActions[i]![j]! + FActions[i]![j]!;
      if (total !== 0) {
        acc += TActions[i]![j]! / total;
        n += 1;
      }
    }
    return acc / n;
  });
}

// The released label space of these tests: c0..c9 -> 0..9 and UNDEFINED -> 10 (a class of the
// released mapping, which eval_file scores), n_class = 12, NONE = 11. The project's: c0..c9 ->
// 0..9, UNDEFINED -> -1 (ignored by the losses), NONE = 10, pad = 12; the model has no UNDEFINED
// logit, so the released model's UNDEFINED logit is -Infinity (it is never trained towards).
const C = 10;
const ACTIONS_DICT: Record<string, number> = { ...Object.fromEntries(Array.from({ length: C }, (_, i) => [`c${i}`, i])), UNDEFINED: C };
const RELEASED_N_CLASS = C + 2;
const LABELS: LabelSpace = { numClasses: C + 1, none: C, pad: C + 2, ignore: [-1] };
const Q = 8;
const name = (label: number): string => (label < 0 ? 'UNDEFINED' : `c${label}`);

/** One evaluation item: frame labels (ours) and the model's outputs for it (our label space). */
interface Item {
  labels: number[];
  logits: number[][];
  durations: Float32Array;
}

function toReleased(item: Item): ReleasedVideo {
  return {
    allContent: item.labels.map(name),
    outputAction: item.logits.map((row) => [...row.slice(0, C), Number.NEGATIVE_INFINITY, row[C]!]),
    outputDur: [...item.durations],
  };
}

/** A model that returns each sample's fixed outputs (looked up by the batch's sample indices). */
function fixedModel(outputs: Item[]): TrainableModel {
  return {
    trainableVariables: [],
    forward: (batch) => ({
      actionLogits: tf.tensor3d(batch.indices.map((i) => outputs[i]!.logits), [batch.indices.length, Q, C + 1]),
      durations: tf.tensor2d(batch.indices.map((i) => [...outputs[i]!.durations]), [batch.indices.length, Q]),
    }),
    loss: () => tf.scalar(0),
    getWeights: () => ({}),
    setWeights: () => undefined,
  };
}

function sampleOf(item: Item, obs: number, index: number): AnticipationSample {
  const L = item.labels.length;
  const observed = Math.trunc(obs * L);
  return {
    id: `v${index}`,
    observationRatio: obs,
    observedLength: observed,
    observedIndices: Int32Array.from({ length: observed }, (_, i) => i),
    modalities: { rgb: { dim: 1, data: new Float32Array(observed) } },
    observedLabels: Int32Array.from(item.labels.slice(0, observed)),
    futureStart: observed,
    futureEnd: observed + Math.trunc(0.5 * L),
    futureLabels: Int32Array.from(item.labels.slice(observed)),
    videoLength: L,
    actions: new Int32Array(Q).fill(LABELS.none),
    durations: new Float32Array(Q),
    durationMask: new Uint8Array(Q),
    lastObservedAction: item.labels[observed - 1] ?? -1,
    transition: false,
    weight: 1,
  };
}

/** MoC per (obs, pred) cell from the project's composition, in the released order of cells. */
function ours(items: Item[], obs: number, protocol?: AnticipationProtocol): number[] {
  const samples = items.map((it, i) => sampleOf(it, obs, i));
  const report = evaluateAnticipation(fixedModel(items), samples, { labels: LABELS, observationRatios: [obs], ...(protocol ? { protocol } : {}) });
  expect(report.protocol).toBe(protocol ?? 'released');
  return report.cells.map((c) => c.moc);
}

/** Logits that make `classes[q]` the argmax of query q (`C` = NONE). */
const logitsFor = (classes: number[]): number[][] => classes.map((k) => Array.from({ length: C + 1 }, (_, c) => (c === k ? 5 : 0)));
const runs = (...rs: [number, number][]): number[] => rs.flatMap(([a, n]) => new Array<number>(n).fill(a));

describe('MoC equals the released evaluation (hand-worked)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });

  it('the scored window: int((obs + pred) L) with 0.2 + 0.1 = 0.30000000000000004 (L = 7 and L = 1234)', () => {
    // L = 7, obs 0.2: future from frame 1, decoded window int(3.5) = 3. pred 0.1: int(0.30000000000000004 * 7)
    // = int(2.1000000000000005) = 2, so frame 1 alone is scored (floor(0.1 * 7) = 0 frames would score none).
    const short: Item = { labels: runs([0, 2], [1, 5]), logits: logitsFor([0, C, C, C, C, C, C, C]), durations: new Float32Array(Q) };
    // pred 0.2: int(2.8000000000000003) = 2, frame 1 again; 0.3: int(3.5) = 3, frames 1..2 (0 right, 1 wrong);
    // 0.5: int(4.8999999999999995) = 4, frames 1..3 (class 1 wrong twice)
    const want7 = [1, 1, 0.5, 0.5];
    expect(releasedPredict([toReleased(short)], 0.2, RELEASED_N_CLASS, ACTIONS_DICT)).toEqual(want7);
    expect(ours([short], 0.2)).toEqual(want7);
    // L = 1234, obs 0.2: frames 246 .. int(370.20000000000005) = 370 (124 frames), not 246 + floor(123.4).
    // Frame 369 (the 124th) is the only class-1 frame; everything is predicted 0.
    const labels = runs([0, 369], [1, 1], [0, 864]);
    const long: Item = { labels, logits: logitsFor([0, C, C, C, C, C, C, C]), durations: new Float32Array(Q) };
    const released = releasedPredict([toReleased(long)], 0.2, RELEASED_N_CLASS, ACTIONS_DICT);
    expect(released[0]).toBe(0.5); // class 0: 123/123, class 1: 0/1
    expect(ours([long], 0.2)[0]).toBe(0.5);
  });

  it('frames left over after rounding take the last query\'s action (corrected: the last action before NONE)', () => {
    // L = 20, obs 0.2: future frames 4..13 = decoded window of 10. Queries 1, 2, 1, NONE, ..., and the
    // last query says 0. Equal durations: each kept share f32(1/3) -> int(0.5 + 3.33) = 3 frames, 9 in
    // all; the 10th frame gets the last query's action 0 (released) or 1 (corrected).
    const item: Item = { labels: runs([5, 4], [1, 3], [2, 3], [1, 10]), logits: logitsFor([1, 2, 1, C, C, C, C, 0]), durations: new Float32Array(Q) };
    const released = (6 / 7 + 1) / 2; // pred 0.5, frames 4..13: class 1 6/7 (frame 13 predicted 0), class 2 3/3
    expect(releasedPredict([toReleased(item)], 0.2, RELEASED_N_CLASS, ACTIONS_DICT)[3]).toBeCloseTo(released, 15);
    expect(ours([item], 0.2)[3]).toBeCloseTo(released, 15);
    expect(ours([item], 0.2, 'corrected')[3]).toBe(1);
  });

  it('no action before NONE: all shares are 0 and the last query\'s action fills the window (corrected: NONE)', () => {
    const item: Item = { labels: runs([5, 4], [2, 16]), logits: logitsFor([C, 3, C, 4, C, C, C, 2]), durations: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]) };
    expect(releasedPredict([toReleased(item)], 0.2, RELEASED_N_CLASS, ACTIONS_DICT)).toEqual([1, 1, 1, 1]);
    expect(ours([item], 0.2)).toEqual([1, 1, 1, 1]);
    expect(ours([item], 0.2, 'corrected')).toEqual([0, 0, 0, 0]);
  });

  it('UNDEFINED ground-truth frames are a class of their own (never predicted); corrected skips them', () => {
    // L = 20, obs 0.2: frames 4..13 are 2, 2, UNDEFINED x 3, 2 x 5; everything is predicted 2.
    const item: Item = { labels: runs([0, 4], [2, 2], [-1, 3], [2, 11]), logits: logitsFor([2, C, C, C, C, C, C, C]), durations: new Float32Array(Q) };
    const want = [1, (1 + 0) / 2, (1 + 0) / 2, (1 + 0) / 2]; // pred 0.1: frames 4, 5; then UNDEFINED 0/3 joins
    expect(releasedPredict([toReleased(item)], 0.2, RELEASED_N_CLASS, ACTIONS_DICT)).toEqual(want);
    expect(ours([item], 0.2)).toEqual(want);
    expect(ours([item], 0.2, 'corrected')).toEqual([1, 1, 1, 1]);
  });
});

// mulberry32: a small seeded generator, local to this test
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random videos with random model outputs: NONE first, in the middle or absent; ties; equal durations. */
function randomItems(count: number, seed: number): Item[] {
  const next = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return Array.from({ length: count }, () => {
    const L = next() < 0.2 ? int(5, 30) : int(5, 420);
    const labels: number[] = [];
    while (labels.length < L) {
      const len = int(1, Math.max(1, Math.round(L / 4)));
      const label = next() < 0.08 ? -1 : int(0, C - 1);
      for (let i = 0; i < len && labels.length < L; i++) labels.push(label);
    }
    const mode = next();
    const noneAt = mode < 0.12 ? 0 : mode < 0.6 ? int(1, Q - 1) : Q; // Q = no NONE
    const logits = Array.from({ length: Q }, (_, q) => {
      const row = Array.from({ length: C + 1 }, () => next() * 2 - 1);
      const k = q === noneAt || (q > noneAt && next() < 0.3) ? C : int(0, C - 1);
      row[k] = 4 + next();
      if (next() < 0.05) row[(k + 1) % (C + 1)] = row[k]!; // a tie: the first maximum wins
      return row.map(f);
    });
    const equal = next() < 0.2;
    const durations = Float32Array.from({ length: Q }, () => (equal ? 0.25 : next() * 6 - 3));
    return { labels, logits, durations };
  });
}

describe('MoC equals the released evaluation (seeded random, 1,200 videos)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });

  it.each([0.2, 0.3])('obs %f: every pred cell to 1e-9', (obs) => {
    const items = randomItems(1200, obs === 0.2 ? 20 : 30);
    const want = releasedPredict(items.map(toReleased), obs, RELEASED_N_CLASS, ACTIONS_DICT);
    const got = ours(items, obs);
    expect(got).toHaveLength(4);
    got.forEach((m, i) => expect(Math.abs(m - want[i]!)).toBeLessThanOrEqual(1e-9));
    // the corrected protocol really differs on these videos (so the comparison above has teeth)
    const corrected = ours(items, obs, 'corrected');
    expect(corrected.some((m, i) => Math.abs(m - want[i]!) > 1e-4)).toBe(true);
  });
});
