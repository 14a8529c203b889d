import { describe, expect, it } from 'vitest';
import { evaluationWindows, futureGroundTruth, makeAnticipationSample, samplesFromSequences } from './samples.js';
import type { Sequence } from './sequence.js';

function seq(runs: [number, number][], id = 'v'): Sequence {
  const labels = Int32Array.from(runs.flatMap(([a, n]) => Array(n).fill(a)));
  const L = labels.length;
  return { id, frames: L, labels, modalities: { rgb: { dim: 2, data: Float32Array.from({ length: 2 * L }, (_, i) => Math.floor(i / 2)) } } };
}
const NONE = 9;
const PAD = 10;
const opts = { noneClass: NONE, padClass: PAD };

describe('makeAnticipationSample', () => {
  const s20 = seq([[0, 4], [1, 6], [2, 5], [3, 5]]); // L = 20

  it('obs 0.2, sample rate 1: a transition, weight 10', () => {
    const s = makeAnticipationSample(s20, { observationRatio: 0.2, ...opts });
    expect(s.observedLength).toBe(4);
    expect([...s.observedLabels]).toEqual([0, 0, 0, 0]);
    expect([s.futureStart, s.futureEnd]).toEqual([4, 14]);
    expect([...s.actions]).toEqual([1, 2, NONE, PAD, PAD, PAD, PAD, PAD]);
    expect([...s.durations]).toEqual([0.6, 0.4, 0, 0, 0, 0, 0, 0].map(Math.fround));
    expect([...s.durationMask]).toEqual([1, 1, 0, 0, 0, 0, 0, 0]);
    expect(s.transition).toBe(true);
    expect(s.weight).toBe(10);
    expect([...s.modalities.rgb!.data]).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });

  it('obs 0.3, sample rate 1: no transition, weight 1', () => {
    const s = makeAnticipationSample(s20, { observationRatio: 0.3, ...opts });
    expect([...s.observedLabels]).toEqual([0, 0, 0, 0, 1, 1]);
    expect([...s.actions]).toEqual([1, 2, 3, NONE, PAD, PAD, PAD, PAD]);
    expect([...s.durations].slice(0, 4)).toEqual([0.4, 0.5, 0.1, 0].map(Math.fround));
    expect(s.weight).toBe(1);
  });

  const s100 = seq([[0, 30], [1, 30], [2, 40]]);
  it('sample rate 15 (released targets): the future window is sub-sampled before it is collapsed', () => {
    const a = makeAnticipationSample(s100, { observationRatio: 0.3, sampleRate: 15, ...opts });
    expect([...a.observedIndices]).toEqual([0, 15]);
    expect([...a.modalities.rgb!.data]).toEqual([0, 0, 15, 15]);
    // future frames 30..79 kept at 30, 45, 60, 75 -> labels 1, 1, 2, 2
    expect([...a.actions].slice(0, 3)).toEqual([1, 2, NONE]);
    expect([...a.durations].slice(0, 2)).toEqual([0.5, 0.5]);
    expect(a.lastObservedAction).toBe(0);
    expect(a.weight).toBe(10);
    const b = makeAnticipationSample(s100, { observationRatio: 0.2, sampleRate: 15, ...opts });
    expect([...b.observedIndices]).toEqual([0, 15]);
    // future frames 20..69 kept at 20, 35, 50, 65 -> labels 0, 1, 1, 2
    expect([...b.actions].slice(0, 4)).toEqual([0, 1, 2, NONE]);
    expect([...b.durations].slice(0, 3)).toEqual([0.25, 0.5, 0.25]);
    expect(b.weight).toBe(1);
  });

  it('sample rate 15, full-rate targets: the full window is collapsed, the last observed frame compared', () => {
    const a = makeAnticipationSample(s100, { observationRatio: 0.3, sampleRate: 15, targets: 'full-rate', ...opts });
    expect([...a.observedIndices]).toEqual([0, 15]);
    expect([...a.actions].slice(0, 3)).toEqual([1, 2, NONE]);
    expect([...a.durations].slice(0, 2)).toEqual([0.6, 0.4].map(Math.fround));
    expect(a.lastObservedAction).toBe(0);
    expect(a.weight).toBe(10);
    const b = makeAnticipationSample(s100, { observationRatio: 0.2, sampleRate: 15, targets: 'full-rate', ...opts });
    expect([...b.actions].slice(0, 4)).toEqual([0, 1, 2, NONE]);
    expect([...b.durations].slice(0, 3)).toEqual([0.2, 0.6, 0.2].map(Math.fround));
    expect(b.weight).toBe(1);
  });

  it('cuts long transcripts to nQueries without NONE; UNDEFINED segments stay (released) or go (full-rate)', () => {
    const long = seq([[0, 10], ...Array.from({ length: 10 }, (_, i) => [i % 2 === 0 ? 1 : 2, 2] as [number, number]), [3, 30]]);
    const s = makeAnticipationSample(long, { observationRatio: 0.2, ...opts });
    // Observed: 12 frames (0 x 10, then 1 x 2): the future starts inside the second segment.
    expect([...s.actions]).toEqual([2, 1, 2, 1, 2, 1, 2, 1]);
    expect([...s.durationMask]).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    const und = seq([[0, 2], [-1, 3], [4, 2], [5, 3]]);
    const u = makeAnticipationSample(und, { observationRatio: 0.2, ...opts });
    expect([...u.actions].slice(0, 3)).toEqual([-1, 4, NONE]);
    expect([...u.durations].slice(0, 2)).toEqual([0.6, 0.4].map(Math.fround));
    expect(u.weight).toBe(10); // last observed 0 vs first target -1 (the released UNDEFINED class)
    const f = makeAnticipationSample(und, { observationRatio: 0.2, targets: 'full-rate', ...opts });
    expect([...f.actions].slice(0, 2)).toEqual([4, NONE]);
    expect(f.durations[0]).toBeCloseTo(0.4);
    expect(() => makeAnticipationSample(seq([[0, 3]]), { observationRatio: 0.2, ...opts })).toThrow(RangeError);
  });
});

describe('samplesFromSequences', () => {
  it('cuts one sample per sequence and ratio, keeps the asked modalities and the future frame labels', () => {
    const a = seq([[0, 4], [1, 6], [2, 5], [3, 5]], 'a');
    a.modalities.depth = { dim: 1, data: new Float32Array(20) };
    const samples = samplesFromSequences([a], { observationRatios: [0.2, 0.3], labels: { none: NONE, pad: PAD }, modalities: ['depth'] });
    expect(samples.map((s) => [s.id, s.observationRatio])).toEqual([['a', 0.2], ['a', 0.3]]);
    expect(Object.keys(samples[0]!.modalities)).toEqual(['depth']);
    expect([...samples[0]!.actions]).toEqual([...makeAnticipationSample(a, { observationRatio: 0.2, ...opts }).actions]);
    expect([...samples[1]!.futureLabels]).toEqual([...a.labels.slice(6)]);
    expect(samples[1]!.videoLength).toBe(20);
    expect(() => samplesFromSequences([a], { observationRatios: [0.2], labels: { none: NONE, pad: PAD }, modalities: ['imu'] })).toThrow(/no modality "imu"/);
  });

  it('keeps UNDEFINED as -1 in observed and future labels, and skips sequences too short for a ratio', () => {
    const und = seq([[-1, 2], [0, 2], [-1, 3], [4, 3]], 'u');
    const [s] = samplesFromSequences([und, seq([[0, 3]], 'short')], { observationRatios: [0.2], labels: { none: NONE, pad: PAD } });
    expect([...s!.observedLabels]).toEqual([-1, -1]);
    expect([...s!.futureLabels]).toEqual([0, 0, -1, -1, -1, 4, 4, 4]);
    // the window is the next 5 frames: 0, 0 and UNDEFINED; the released targets keep the UNDEFINED segment as -1
    expect([...s!.actions].slice(0, 3)).toEqual([0, -1, NONE]);
    const [full] = samplesFromSequences([und], { observationRatios: [0.2], labels: { none: NONE, pad: PAD }, targets: 'full-rate' });
    expect([...full!.actions].slice(0, 2)).toEqual([0, NONE]);
    expect(samplesFromSequences([seq([[0, 3]], 'short')], { observationRatios: [0.2, 0.5], labels: { none: NONE, pad: PAD } }).map((x) => x.observationRatio)).toEqual([0.5]);
  });
});

describe('evaluation windows', () => {
  it('gives the ground-truth future frames of each obs x pred window', () => {
    const labels = Int32Array.from({ length: 20 }, (_, i) => i);
    expect(futureGroundTruth(labels, 0.2, 0.1)).toEqual({ start: 4, end: 6, labels: Int32Array.from([4, 5]) });
    expect([...futureGroundTruth(labels, 0.3, 0.5).labels]).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(evaluationWindows(labels)).toHaveLength(8);
    // released slicing: int((obs + pred) * L) with 0.2 + 0.1 = 0.30000000000000004
    expect(futureGroundTruth(Int32Array.from({ length: 7 }, (_, i) => i), 0.2, 0.1)).toEqual({ start: 1, end: 2, labels: Int32Array.from([1]) });
    expect(futureGroundTruth(new Int32Array(1234), 0.2, 0.1)).toMatchObject({ start: 246, end: 370 });
  });
});
