import { describe, expect, it } from 'vitest';
import { channelScores, lowestChannels, singularValues } from './index.js';

const tokens = [
  [1, 10, 0, 5],
  [2, 10, 0, -5],
  [3, 10, 1, 5],
  [4, 10, 0, -5],
];

describe('channel scores', () => {
  it('variance: unbiased by default, biased on request', () => {
    expect(Array.from(channelScores(tokens, { method: 'variance' }))).toEqual([5 / 3, 0, 0.25, 100 / 3]);
    expect(Array.from(channelScores(tokens, { method: 'variance', unbiased: false }))).toEqual([1.25, 0, 0.1875, 25]);
  });

  it('svd-energy with all directions equals (T - 1) x variance', () => {
    const energy = channelScores(tokens, { method: 'svd-energy' });
    const variance = channelScores(tokens, { method: 'variance' });
    energy.forEach((e, j) => expect(e).toBeCloseTo(3 * variance[j]!, 10));
  });

  it('svd-energy with q = 1 keeps only the dominant direction', () => {
    const energy = channelScores(tokens, { method: 'svd-energy', topQ: 1 });
    // q = 1 sums to s_1^2 (v_1 is a unit vector), and the dominant centred direction is
    // channel 3 (+-5) with a little of channel 0 (which correlates with it), none of channel 1
    const total = energy.reduce((a, b) => a + b, 0);
    const s1 = singularValues(tokens.map((row) => row.map((x, j) => x - [2.5, 10, 0.25, 0][j]!)))[0]!;
    expect(total).toBeCloseTo(s1 * s1, 10);
    expect(energy[3]! / total).toBeGreaterThan(0.9);
    expect(energy[1]).toBeCloseTo(0, 12);
  });

  it('selects the k lowest channels, ties by lower index', () => {
    expect(lowestChannels([3, 1, 2, 1], 2)).toEqual([1, 3]);
    expect(lowestChannels([0, 0, 0], 2)).toEqual([0, 1]);
    expect(() => lowestChannels([1, 2], 3)).toThrow(/k must be an integer in \[0, 2\], got 3/);
  });

  it('rejects unknown methods and too few tokens', () => {
    expect(() => channelScores(tokens, { method: 'entropy' as never })).toThrow(/unknown method 'entropy'/);
    expect(() => channelScores([[1, 2]], { method: 'variance' })).toThrow(/needs at least 2/);
  });
});
