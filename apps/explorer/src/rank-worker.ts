// A Web Worker that computes effective ranks (rank-metrics' `effectiveRank`, the same function the
// page and the Node analysis call) for a batch of matrices, reporting progress as it goes.
import { effectiveRank, type EffectiveRankVariant } from '@r3d-ts/rank-metrics';

/** What the page sends: matrices (their own buffers, transferred) and the variant. */
export interface RankRequest {
  id: number;
  variant: EffectiveRankVariant;
  matrices: Array<{ data: Float32Array; rows: number; cols: number }>;
}

/** What comes back: `done` so far, then the ranks in request order (or the first error's message). */
export type RankReply = { id: number; done: number } | { id: number; ranks: Float64Array } | { id: number; error: string };

const scope = self as unknown as { onmessage: (e: MessageEvent<RankRequest>) => void; postMessage(m: RankReply, transfer?: Transferable[]): void };

scope.onmessage = (e) => {
  const { id, variant, matrices } = e.data;
  const ranks = new Float64Array(matrices.length);
  let last = performance.now();
  try {
    for (const [i, m] of matrices.entries()) {
      ranks[i] = effectiveRank(m, { variant });
      if (performance.now() - last > 30) {
        scope.postMessage({ id, done: i + 1 });
        last = performance.now();
      }
    }
    scope.postMessage({ id, ranks }, [ranks.buffer]);
  } catch (err) {
    scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
