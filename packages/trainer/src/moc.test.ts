import { selectBackend } from '@r3d-ts/backend';
import { type AnticipationSample, makeAnticipationSample } from '@r3d-ts/datasets';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateAnticipation } from './evaluate.js';
import type { LabelSpace, TrainableModel } from './model.js';
import { decodeFuture, meanOverClasses, MocAccumulator, scoredFutureFrames, segmentationAccuracy } from './moc.js';

describe('mean over classes', () => {
  it('sums per-class tallies over videos, skips absent classes and classes only predicted', () => {
    // class 1: 1/2 (video a); class 2: 2/3 (a) + 1/2 (b) = 3/5; class 0: 2/3 (b);
    // class 3 is only predicted (no term); class 4 never occurs (no term)
    const r = meanOverClasses([
      { groundTruth: [1, 1, 2, 2, 2], predicted: [1, 0, 2, 2, 3] },
      { groundTruth: [2, 2, 0, 0, 0], predicted: [2, 3, 3, 0, 0] },
    ]);
    expect(r.moc).toBeCloseTo((1 / 2 + 3 / 5 + 2 / 3) / 3, 12);
    expect([...r.perClass.keys()]).toEqual([0, 1, 2]);
    expect(r.perClass.get(2)).toEqual({ correct: 3, total: 5 });
    expect(r.frames).toBe(10);
    // averaging per video first would give a different number: the tally must be global
    const perVideo = ((1 / 2 + 2 / 3) / 2 + (1 / 2 + 2 / 3) / 2) / 2;
    expect(Math.abs(r.moc - perVideo)).toBeGreaterThan(1e-3);
  });

  it('ignores pad and UNDEFINED ground-truth frames and is NaN with nothing to score', () => {
    const acc = new MocAccumulator([-100, 9]);
    acc.add([-100, 9, 1], [1, 1, 0]);
    expect(acc.result().moc).toBe(0);
    expect(acc.result().frames).toBe(1);
    expect(new MocAccumulator().result().moc).toBeNaN();
    expect(() => acc.add([1, 2], [1])).toThrow(/2 ground-truth frames but 1 predicted/);
  });

  it.each([
    [0.2, 0.1, 100, 20, 10],
    [0.3, 0.5, 100, 30, 50],
    [0.2, 0.5, 10, 2, 5],
    [0.3, 0.2, 37, 11, 7], // int(11.1) = 11 .. int(18.5) = 18
    [0.3, 0.2, 35, 10, 7], // int(10.5) = 10 .. int(17.5) = 17
    [0.5, 0.6, 10, 5, 5], // int(11.0) cut at the prediction's end (5 + int(0.5 * 10)) and the video's
    [0.2, 0.1, 7, 1, 1], // int(0.30000000000000004 * 7) = 2: one frame, not floor(0.7) = 0
    [0.2, 0.1, 1234, 246, 124], // int(370.20000000000005) - 246, not floor(123.4) = 123
  ])('scores frames int(obs L) .. int((obs+pred) L) as released: obs %f pred %f L %i -> start %i count %i', (obs, pred, L, start, count) => {
    expect(scoredFutureFrames(obs, pred, L)).toEqual({ start, count });
  });

  it('decodes queries: masks from NONE on, exp + L1-normalised durations, exact frame count', () => {
    // 3 queries, classes {0,1,2} + NONE=3; q0 -> 2 (weight 1), q1 -> 0 (weight 3), q2 -> NONE
    const logits = [0, 0, 5, 0, 5, 0, 0, 0, 0, 0, 0, 5];
    const out = decodeFuture(logits, [0, Math.log(3), 10], 4, 3, 10, 1);
    expect(Array.from(out)).toEqual([2, 2, 2, 0, 0, 0, 0, 0, 0, 0]); // round(0.25 * 10) = 3 (2.5 rounds up)
    // NONE first: released -> every share is 0 and the last query's action (here NONE) fills the window
    expect(Array.from(decodeFuture([0, 0, 0, 9], [0], 4, 3, 4, 1))).toEqual([3, 3, 3, 3]);
    expect(Array.from(decodeFuture([0, 0, 0, 9], [0], 4, 3, 4, 1, { protocol: 'corrected' }))).toEqual([1, 1, 1, 1]); // -> fallback
    // float32 as the released tensors: exp(f32(ln 2)) and exp(f32(ln 3)) round to 2 and 3, so the
    // shares are exactly 0.25, 0.375, 0.375 and query 0 gets int(0.5 + 89.5) = 90 of 358 frames
    // (float64 would give exp(ln 2) / sum = 0.24999999..., 89 frames)
    const f32 = Float32Array.from([Math.log(2), Math.log(3), Math.log(3)]);
    const wide = decodeFuture([9, 0, 0, 0, 0, 9, 0, 0, 0, 0, 9, 0], f32, 4, 3, 358, 3);
    expect([wide[89], wide[90], wide[223], wide[224]]).toEqual([0, 1, 1, 2]);
  });

  it('segmentation accuracy counts scored frames only', () => {
    expect(segmentationAccuracy([0, 1, -100, 1], [0, 0, 3, 1], [-100])).toEqual({ correct: 2, total: 3 });
  });
});

describe.each(testBackends())('evaluateAnticipation on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });

  it('reproduces a hand-computed MoC table from a model with fixed outputs', () => {
    // classes 0..2, NONE = 3. Two videos of L = 20 observed at 0.2 (4 frames).
    const labels: LabelSpace = { numClasses: 4, none: 3, pad: -100 };
    const sample = (id: string, future: number[], last: number): AnticipationSample => {
      const frames = Int32Array.from([last, last, last, last, ...future]);
      return makeAnticipationSample({ id, frames: 20, labels: frames, modalities: { rgb: { dim: 2, data: new Float32Array(20 * 2) } } }, { observationRatio: 0.2, noneClass: 3, padClass: -100 });
    };
    // the model always predicts: class 1 for 40% then class 2 for 60% of the 10-frame window
    const model: TrainableModel = {
      trainableVariables: [],
      forward: (batch) => {
        const b = batch.lengths.length;
        const one = [0, 9, 0, 0, 0, 0, 9, 0, 0, 0, 0, 9];
        return {
          actionLogits: tf.tensor3d(Array.from({ length: b }, () => one).flat(), [b, 3, 4]),
          durations: tf.tensor2d(Array.from({ length: b }, () => [Math.log(0.4), Math.log(0.6), 0]).flat(), [b, 3]),
          segLogits: tf.tensor3d(Array.from({ length: b * 4 }, () => [0, 9, 0, 0]).flat(), [b, 4, 4]),
        };
      },
      loss: () => tf.scalar(0),
      getWeights: () => ({}),
      setWeights: () => undefined,
    };
    const a = sample('a', [1, 1, 1, 1, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], 1);
    const b = sample('b', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2], 2);
    const before = tf.memory().numTensors;
    const report = evaluateAnticipation(model, [a, b], { labels, observationRatios: [0.2], predictionRatios: [0.1, 0.5] });
    expect(tf.memory().numTensors).toBe(before);
    // prediction over frames: [1,1,1,1,2,2,2,2,2,2]
    // pred 0.1 -> 2 frames: a gt [1,1] both right; b gt [0,0] both wrong -> class 1: 1, class 0: 0 -> 0.5
    // pred 0.5 -> 10 frames: class 1 (a) 4/4; class 0: a 0/2 + b 0/10 = 0/12; class 2: a 4/4 -> (1 + 0 + 1) / 3
    expect(report.cells.map((c) => [c.predictionRatio, c.moc])).toEqual([
      [0.1, 0.5],
      [0.5, 2 / 3],
    ]);
    expect(report.meanMoc).toBeCloseTo((0.5 + 2 / 3) / 2, 12);
    // segmentation always says 1: video a's observed frames are 1 (4/4), b's are 2 (0/4)
    expect(report.segmentation).toEqual([{ observationRatio: 0.2, accuracy: 0.5, frames: 8 }]);
  });
});
