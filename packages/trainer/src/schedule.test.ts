import { describe, expect, it } from 'vitest';
import { learningRate } from './schedule.js';

const released = { lr: 1e-3, warmupEpochs: 10, totalEpochs: 60 };

describe('learningRate', () => {
  it.each([
    [0, 1e-4],
    [4, 5e-4],
    [9, 1e-3],
    [10, 1e-3],
    [35, 5e-4],
    [60, 0],
  ])('released recipe at epoch %i is %f', (epoch, expected) => {
    expect(learningRate(released, epoch)).toBeCloseTo(expected, 12);
  });

  it('is a cosine after warm-up (quarter point)', () => {
    expect(learningRate(released, 10 + 12.5)).toBeCloseTo(0.5e-3 * (1 + Math.cos(Math.PI / 4)), 12);
  });

  it('moves per step when stepsPerEpoch is given, reaching the peak at the last warm-up step', () => {
    const perStep = { ...released, stepsPerEpoch: 4 };
    expect(learningRate(perStep, 0, 0)).toBeCloseTo(1e-3 / 40, 12);
    expect(learningRate(perStep, 9, 3)).toBeCloseTo(1e-3, 12);
    expect(learningRate(perStep, 0, 1)).toBeGreaterThan(learningRate(perStep, 0, 0));
  });

  it('respects minLr and needs no warm-up', () => {
    const opts = { lr: 1, warmupEpochs: 0, totalEpochs: 10, minLr: 0.1 };
    expect(learningRate(opts, 0)).toBeCloseTo(1, 12);
    expect(learningRate(opts, 10)).toBeCloseTo(0.1, 12);
    expect(learningRate(opts, 20)).toBeCloseTo(0.1, 12);
  });
});
