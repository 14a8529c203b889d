import { describe, expect, it } from 'vitest';
import { makeAnticipationSample } from './samples.js';
import type { Sequence } from './sequence.js';

// Golden tests of the training targets against the released loaders of olivesgatech/R3D
// (`data/basedataset_darai_depth.py` and `data/basedataset_utkinects_raw.py`: `_make_input`,
// `seq2transcript`, `my_collate`, and the transition weight of `train_proposed_depth.py`).
// `releasedMakeInput` below is a line-by-line transliteration of that Python on label *names*,
// written from the released code and sharing nothing with this package.

// The released label space of these tests: a0..a9 -> 0..9, UNDEFINED -> 10 (a class of the
// released mapping), n_class = 12 (NONE = n_class - 1 = 11), pad_idx = n_class + 1 = 13.
const NAMES = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'UNDEFINED'];
const ACTIONS_DICT: Record<string, number> = Object.fromEntries(NAMES.map((n, i) => [n, i]));
const N_CLASS = NAMES.length + 1;
const NONE = N_CLASS - 1;
const PAD = N_CLASS + 1;
const N_QUERY = 8;

interface ReleasedItem {
  pastLabel: number[];
  target: number[];
  dur: Float32Array;
  weight: number;
}

/** `_make_input` (+ the collate's padding and the loss's transition weight) on label names. */
function releasedMakeInput(allContent: string[], obsPerc: number, sampleRate: number): ReleasedItem {
  const every = <T>(xs: T[], r: number): T[] => xs.filter((_, i) => i % r === 0); // xs[::r]
  const vidLen = allContent.length;
  const observedLen = Math.trunc(obsPerc * vidLen); // int(obs_perc * vid_len)
  const predLen = Math.trunc(0.5 * vidLen); // int(0.5 * vid_len)
  const startFrame = 0;
  const pastContent = every(allContent.slice(startFrame, startFrame + observedLen), sampleRate);
  const pastLabel = pastContent.map((n) => ACTIONS_DICT[n.replaceAll(' ', '')]!);
  const futureContent = every(allContent.slice(startFrame + observedLen, startFrame + observedLen + predLen), sampleRate);

  // seq2transcript
  const transcriptAction: number[] = [];
  const transcriptDur: number[] = [];
  let action = futureContent[0]!.replaceAll(' ', '');
  transcriptAction.push(ACTIONS_DICT[action]!);
  let lastI = 0;
  for (let i = 0; i < futureContent.length; i++) {
    if (action !== futureContent[i]) {
      action = futureContent[i]!.replaceAll(' ', '');
      transcriptAction.push(ACTIONS_DICT[action]!);
      const duration = (i - lastI) / futureContent.length;
      lastI = i;
      transcriptDur.push(duration);
    }
  }
  transcriptDur.push((futureContent.length - lastI) / futureContent.length);

  let target = [...transcriptAction, NONE]; // np.append(trans_future, self.NONE)
  let dur = transcriptDur;
  const diff = N_QUERY - target.length;
  if (diff > 0) {
    target = [...target, ...new Array<number>(diff).fill(PAD)];
    dur = [...dur, ...new Array<number>(diff + 1).fill(PAD)];
  } else if (diff < 0) {
    target = target.slice(0, N_QUERY);
    dur = dur.slice(0, N_QUERY);
  } else {
    dur = [...dur, PAD];
  }
  // get_last_non_padding_labels(past_label, pad_idx) vs trans_future_target[:, 0]
  const nonPad = pastLabel.filter((v) => v !== PAD);
  const last = nonPad.length > 0 ? nonPad[nonPad.length - 1]! : PAD;
  return { pastLabel, target, dur: Float32Array.from(dur), weight: last === target[0] ? 1 : 10 };
}

// This package's side: UNDEFINED is -1, NONE and pad are the same indices as above.
const toOurs = (released: number): number => (released === ACTIONS_DICT.UNDEFINED ? -1 : released);
const toName = (label: number): string => (label < 0 ? 'UNDEFINED' : NAMES[label]!);

function sequenceOf(labels: number[], id = 'v'): Sequence {
  const L = labels.length;
  return { id, frames: L, labels: Int32Array.from(labels), modalities: { rgb: { dim: 1, data: Float32Array.from({ length: L }, (_, i) => i) } } };
}

function ours(labels: number[], obs: number, sampleRate: number): ReleasedItem {
  const s = makeAnticipationSample(sequenceOf(labels), { observationRatio: obs, sampleRate, nQueries: N_QUERY, noneClass: NONE, padClass: PAD });
  return {
    pastLabel: [...s.observedLabels],
    target: [...s.actions],
    // the pad value where the released loader pads (what the trainer hands the loss)
    dur: Float32Array.from(s.durations, (d, i) => (s.durationMask[i] ? d : PAD)),
    weight: s.weight,
  };
}

function releasedInOurLabels(labels: number[], obs: number, sampleRate: number): ReleasedItem {
  const r = releasedMakeInput(labels.map(toName), obs, sampleRate);
  return { ...r, pastLabel: r.pastLabel.map(toOurs), target: r.target.map(toOurs) };
}

const runs = (...rs: [number, number][]): number[] => rs.flatMap(([a, n]) => new Array<number>(n).fill(a));

describe('training targets equal the released loader (hand-worked)', () => {
  it('sample rate 15: a segment shorter than the rate vanishes, durations over the sub-sampled length', () => {
    // L = 200, obs 0.2: observe 40 frames (kept 0, 15, 30: labels 0, 0, 1); future = frames 40..139,
    // kept 40, 55, ..., 130 (7 frames): 1 (40), 1 (55), 2 (70), 2 (85), 3 (100), 3 (115), 3 (130).
    // The 10-frame segment of class 4 at 60..69 falls between 55 and 70 and vanishes.
    const labels = runs([0, 30], [1, 30], [4, 10], [2, 30], [3, 100]);
    const r = releasedMakeInput(labels.map(toName), 0.2, 15);
    expect(r.pastLabel).toEqual([0, 0, 1]);
    expect(r.target).toEqual([1, 2, 3, NONE, PAD, PAD, PAD, PAD]);
    expect([...r.dur]).toEqual([2 / 7, 2 / 7, 3 / 7, PAD, PAD, PAD, PAD, PAD].map(Math.fround));
    expect(r.weight).toBe(1); // last kept observed label 1 = first target 1
    expect(ours(labels, 0.2, 15)).toEqual(r);
  });

  it('sample rate 30: the transition weight compares the last kept observed label, not the last frame', () => {
    // L = 100, obs 0.5: observe 50 frames, kept 0 and 30 (labels 0, 0); frames 31..49 are class 1,
    // so the last observed frame (1) equals the first future action (1) but the last kept one (0) does not.
    const labels = runs([0, 31], [1, 69]);
    const r = releasedMakeInput(labels.map(toName), 0.5, 30);
    expect(r.pastLabel).toEqual([0, 0]);
    expect(r.target.slice(0, 2)).toEqual([1, NONE]);
    expect(r.weight).toBe(10);
    expect(ours(labels, 0.5, 30)).toEqual(r);
  });

  it('sample rate 2, exactly 7 segments: NONE fills the 8th query and one pad duration follows', () => {
    // L = 40, obs 0.3: observe 12 frames; future = frames 12..31 kept at even frames (10 kept).
    const labels = runs([9, 12], [0, 2], [1, 2], [2, 2], [3, 2], [4, 2], [5, 2], [6, 8], [7, 8]);
    const r = releasedMakeInput(labels.map(toName), 0.3, 2);
    expect(r.target).toEqual([0, 1, 2, 3, 4, 5, 6, NONE]);
    expect([...r.dur]).toEqual([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.4, PAD].map(Math.fround));
    expect(ours(labels, 0.3, 2)).toEqual(r);
  });

  it('sample rate 1: more than 8 segments are cut to 8 queries, without NONE; UNDEFINED stays a target', () => {
    const labels = runs([0, 10], [-1, 2], [1, 2], [2, 2], [3, 2], [4, 2], [5, 2], [6, 2], [7, 2], [8, 24]);
    const r = releasedInOurLabels(labels, 0.2, 1);
    expect(r.target).toEqual([-1, 1, 2, 3, 4, 5, 6, 7]);
    expect([...r.dur]).toEqual(new Array(8).fill(Math.fround(2 / 25))); // 25 future frames, 2 each
    expect(r.weight).toBe(10);
    expect(ours(labels, 0.2, 1)).toEqual(r);
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

describe('training targets equal the released loader (seeded random, 1,200 sequences)', () => {
  const ratios = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65]; // every released loader's training ratios
  it.each([1, 2, 15, 30])('sample rate %i', (sampleRate) => {
    const next = rng(1000 + sampleRate);
    const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
    let compared = 0;
    let vanished = 0;
    for (let v = 0; v < 300; v++) {
      const L = int(2, 420);
      const labels: number[] = [];
      while (labels.length < L) {
        // short runs (1..3 frames) often, so segments shorter than the sample rate occur
        const len = next() < 0.3 ? int(1, 3) : int(1, Math.max(1, Math.round(L / 3)));
        const label = next() < 0.1 ? -1 : int(0, 9);
        for (let i = 0; i < len && labels.length < L; i++) labels.push(label);
      }
      for (const obs of ratios) {
        if (Math.trunc(obs * L) < 1) {
          expect(() => ours(labels, obs, sampleRate)).toThrow(RangeError); // nothing to observe
          continue;
        }
        const want = releasedInOurLabels(labels, obs, sampleRate);
        expect(ours(labels, obs, sampleRate)).toEqual(want);
        compared += 1;
        if (sampleRate > 1 && want.target.filter((t) => t !== PAD && t !== NONE).length < N_QUERY) {
          const full = labels.slice(Math.trunc(obs * L), Math.trunc(obs * L) + Math.trunc(0.5 * L));
          const fullSegments = full.filter((x, i) => i === 0 || x !== full[i - 1]).length;
          if (fullSegments > want.target.filter((t) => t !== PAD && t !== NONE).length) vanished += 1;
        }
      }
    }
    expect(compared).toBeGreaterThan(2800);
    if (sampleRate >= 15) expect(vanished).toBeGreaterThan(100); // the sub-sampling really dropped segments
  });
});
