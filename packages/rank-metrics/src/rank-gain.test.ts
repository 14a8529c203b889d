import { describe, expect, it } from 'vitest';
import { effectiveRank, harmonicBalance, meanRankGain, pairRanks } from './index.js';

describe('rank gain table row', () => {
  const rankOne = [[1, 0], [1, 0]];
  const full = [[1, 0], [0, 1]];

  it('pairRanks is the effective rank of each of the four matrices, under the chosen variant', () => {
    const r = pairRanks({ beforeA: rankOne, afterA: full, beforeB: full, afterB: rankOne }, { variant: 'rankme' });
    expect(r).toEqual({
      beforeA: effectiveRank(rankOne, { variant: 'rankme' }),
      afterA: effectiveRank(full, { variant: 'rankme' }),
      beforeB: effectiveRank(full, { variant: 'rankme' }),
      afterB: effectiveRank(rankOne, { variant: 'rankme' }),
    });
  });

  it('meanRankGain averages the ranks, then subtracts, then takes H of the two gains', () => {
    const ranks = [
      { beforeA: 1, afterA: 2, beforeB: 3, afterB: 3.5 },
      { beforeA: 2, afterA: 2.5, beforeB: 1, afterB: 2.5 },
    ];
    const row = meanRankGain(ranks);
    expect(row.samples).toBe(2);
    expect(row.erank).toEqual({ beforeA: 1.5, afterA: 2.25, beforeB: 2, afterB: 3 });
    expect(row.gainA).toBe(0.75);
    expect(row.gainB).toBe(1);
    expect(row.balance).toBe(harmonicBalance(0.75, 1));
    expect(meanRankGain([{ beforeA: 2, afterA: 1, beforeB: 1, afterB: 2 }]).balance).toBe(0);
    expect(() => meanRankGain([])).toThrow(/needs at least one sample/);
  });
});
