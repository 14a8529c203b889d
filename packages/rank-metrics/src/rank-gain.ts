import { harmonicBalance } from './balance.js';
import { effectiveRank, type EffectiveRankOptions } from './effective-rank.js';
import { check } from './errors.js';
import type { MatrixInput } from './matrix.js';

/** Effective ranks of one sample of a modality pair (A, B), before and after fusion. */
export interface PairRanks {
  beforeA: number;
  afterA: number;
  beforeB: number;
  afterB: number;
}

/** One row of the paper's gain table: mean ranks over the samples, the gains and H. */
export interface RankGainRow {
  samples: number;
  /** Mean over the samples of each effective rank. */
  erank: PairRanks;
  /** Mean rank after minus mean rank before, for A and for B. */
  gainA: number;
  gainB: number;
  /** harmonicBalance(gainA, gainB). */
  balance: number;
}

/**
 * The four effective ranks of one sample of a modality pair: A and B before and after fusion.
 * Kept apart from `meanRankGain` so a caller can compute, cache and report ranks one matrix at a
 * time (a page showing progress) and still aggregate exactly as the paper's table does.
 *
 * @example
 * pairRanks({ beforeA: rgb, afterA: rgbX, beforeB: depth, afterB: depthX }); // { beforeA: 3.1, ... }
 */
export function pairRanks(
  sample: { beforeA: MatrixInput; afterA: MatrixInput; beforeB: MatrixInput; afterB: MatrixInput },
  options: EffectiveRankOptions = {},
): PairRanks {
  return {
    beforeA: effectiveRank(sample.beforeA, options),
    afterA: effectiveRank(sample.afterA, options),
    beforeB: effectiveRank(sample.beforeB, options),
    afterB: effectiveRank(sample.afterB, options),
  };
}

/**
 * The paper's gain-table row from per-sample ranks (the authors' demo analysis): each rank is
 * averaged over the samples, the gain of a modality is its mean rank after minus its mean rank
 * before, and H is the harmonic balance of the two gains. The sums run in sample order, so the
 * same ranks give bit-identical rows wherever this runs (Node or a browser).
 *
 * @example
 * const row = meanRankGain(sequences.map((s) => pairRanks(s))); // row.gainA, row.gainB, row.balance
 */
export function meanRankGain(ranks: readonly PairRanks[]): RankGainRow {
  const n = ranks.length;
  check(n > 0, 'INVALID_INPUT', () => 'meanRankGain: needs at least one sample');
  const sums = { beforeA: 0, afterA: 0, beforeB: 0, afterB: 0 };
  for (const r of ranks) {
    sums.beforeA += r.beforeA;
    sums.afterA += r.afterA;
    sums.beforeB += r.beforeB;
    sums.afterB += r.afterB;
  }
  const erank = { beforeA: sums.beforeA / n, afterA: sums.afterA / n, beforeB: sums.beforeB / n, afterB: sums.afterB / n };
  const gainA = erank.afterA - erank.beforeA;
  const gainB = erank.afterB - erank.beforeB;
  return { samples: n, erank, gainA, gainB, balance: harmonicBalance(gainA, gainB) };
}
