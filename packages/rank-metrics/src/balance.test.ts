import { describe, expect, it } from 'vitest';
import { collapseReport, effectiveRank, harmonicBalance, mutualGain } from './index.js';

describe('modality balance', () => {
  it('harmonic mean of gains, 0 when either gain is <= 0', () => {
    expect(harmonicBalance(0.6296, 1.6661)).toBeCloseTo(0.91385, 4);
    expect(harmonicBalance(1, 1)).toBe(1);
    expect(harmonicBalance(0.5, 0)).toBe(0);
    expect(harmonicBalance(-0.2, 3)).toBe(0);
    expect(() => harmonicBalance(Number.NaN, 1)).toThrow(/gains must be finite/);
  });

  it('mutual gain averages per-sample gains before the harmonic mean', () => {
    const rankOne = [[1, 0], [1, 0]];
    const full = [[1, 0], [0, 1]];
    const g = mutualGain({ beforeA: [rankOne, full], afterA: [full, full], beforeB: [rankOne, rankOne], afterB: [full, full] });
    const up = effectiveRank(full) - effectiveRank(rankOne);
    expect(g.gainA).toBeCloseTo(up / 2, 12);
    expect(g.gainB).toBeCloseTo(up, 12);
    expect(g.balance).toBeCloseTo(harmonicBalance(up / 2, up), 12);
    expect(() => mutualGain({ beforeA: [full], afterA: [], beforeB: [full], afterB: [full] })).toThrow(/afterA has 0 samples, beforeA has 1/);
  });

  it('collapse report: a fused stream that is all one modality gives the other a zero share', () => {
    const a = [[1, 0, 0], [0, 1, 0]];
    const b = [[0, 0, 1], [0, 0, 2]];
    const r = collapseReport({ beforeA: a, afterA: a, beforeB: b, afterB: b, fused: [[2, 1, 0], [1, 3, 0]] });
    expect(r.gainA).toBe(0);
    expect(r.balance).toBe(0);
    expect(r.explainedA).toBeCloseTo(1, 12);
    expect(r.explainedB).toBeCloseTo(0, 12);
    expect(r.shareA).toBeCloseTo(1, 12);
    const mixed = collapseReport({ beforeA: a, afterA: a, beforeB: b, afterB: b, fused: [[1, 0, 1], [0, 1, 1]] });
    expect(mixed.shareA).toBeCloseTo(0.5, 12);
    expect(mixed.erank.fused).toBeGreaterThan(1);
  });
});
