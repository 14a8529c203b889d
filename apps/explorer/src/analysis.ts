import { effectiveRank, type EffectiveRankVariant, meanRankGain, type PairRanks, type RankGainRow } from '@r3d-ts/rank-metrics';
import type { TokenMatrix } from './tensor-files.js';
import type { PairGroup, PairSample } from './workspace.js';

/** One row of a gain table: the paper's row (rank-metrics' `meanRankGain`) at one observation ratio. */
export interface TableRow extends RankGainRow {
  ratio: number | null;
}

/** The sequences the authors' demo averages (0..32; the README's table and the ablation use them too). */
export const AUTHORS_SEQUENCES = 33;

/** Reports progress: `done` of `total` units, and what is being done. */
export type Progress = (done: number, total: number, what: string) => void;

/** Thrown into a running analysis that a newer request replaced. */
export class Superseded extends Error {
  constructor() {
    super('superseded by a newer request');
    this.name = 'Superseded';
  }
}

const ranks = new WeakMap<TokenMatrix, Map<EffectiveRankVariant, number>>();

/**
 * Effective rank of one matrix under a variant, remembered per matrix: the RTF panel and the
 * spectrum view reuse the ranks the table already computed.
 *
 * @example
 * rankOf({ data: Float32Array.of(1, 0, 0, 1), rows: 2, cols: 2 }, 'authors'); // ~2
 */
export function rankOf(m: TokenMatrix, variant: EffectiveRankVariant): number {
  let known = ranks.get(m);
  if (!known) ranks.set(m, (known = new Map()));
  let r = known.get(variant);
  if (r === undefined) known.set(variant, (r = effectiveRank(m, { variant })));
  return r;
}

/**
 * Lets the page paint (the progress bar) between chunks of work, and stops a run that a newer
 * one replaced (it rejects with `Superseded`). A MessageChannel task, unlike setTimeout, is not
 * clamped to 4 ms.
 *
 * @example
 * await breathe(() => run === latestRun);
 */
export function breathe(isCurrent: () => boolean = () => true): Promise<void> {
  return new Promise((resolve, reject) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      if (isCurrent()) resolve();
      else reject(new Superseded());
    };
    ch.port2.postMessage(null);
  });
}

/**
 * The samples of a group that the table averages: the authors' sequences 0..32 for their demo
 * (the README's table and the ablation's default), else all of them.
 *
 * @example
 * samplesOf(group, true).map((s) => s.seq); // [0, 1, ..., 32]
 */
export function samplesOf(group: PairGroup, authorsRange: boolean): PairSample[] {
  return authorsRange ? group.samples.filter((s) => s.seq < AUTHORS_SEQUENCES) : group.samples;
}

/** What one sample contributes after fusion: the files' exchanged tokens or the page's RTF output. */
export type AfterOf = (sample: PairSample, group: PairGroup, index: number) => { a: TokenMatrix; b: TokenMatrix };

/**
 * The gain table of a pair set, one row per observation ratio: each matrix's effective rank
 * (cached), then rank-metrics' `meanRankGain`, exactly as the ablation's `analyseDemo` does it,
 * so the page's numbers are the project's. Yields every ~30 ms for the progress bar.
 *
 * @example
 * const rows = await gainTable(set.groups, (s) => ({ a: s.aAfter!, b: s.bAfter! }), { variant: 'authors', authorsRange: true });
 */
export async function gainTable(
  groups: readonly PairGroup[],
  after: AfterOf,
  options: { variant: EffectiveRankVariant; authorsRange: boolean; onProgress?: Progress; what?: string; isCurrent?: () => boolean },
): Promise<TableRow[]> {
  const chosen = groups.map((g) => samplesOf(g, options.authorsRange));
  const total = chosen.reduce((n, s) => n + s.length, 0);
  const rows: TableRow[] = [];
  let done = 0;
  let last = performance.now();
  for (const [gi, group] of groups.entries()) {
    const samples = chosen[gi]!;
    if (samples.length === 0) throw new Error(`no sequence in 0..${AUTHORS_SEQUENCES - 1} at ratio ${group.ratio} (untick "authors' sequences" to use all ${group.samples.length})`);
    const pr: PairRanks[] = [];
    for (const s of samples) {
      const x = after(s, group, group.samples.indexOf(s));
      pr.push({ beforeA: rankOf(s.a, options.variant), afterA: rankOf(x.a, options.variant), beforeB: rankOf(s.b, options.variant), afterB: rankOf(x.b, options.variant) });
      done++;
      if (performance.now() - last > 30) {
        options.onProgress?.(done, total, options.what ?? 'effective ranks');
        await breathe(options.isCurrent);
        last = performance.now();
      }
    }
    rows.push({ ratio: group.ratio, ...meanRankGain(pr) });
  }
  options.onProgress?.(total, total, options.what ?? 'effective ranks');
  return rows;
}
