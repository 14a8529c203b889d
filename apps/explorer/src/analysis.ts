import { effectiveRank, type EffectiveRankVariant, meanRankGain, type PairRanks, type RankGainRow } from '@r3d-ts/rank-metrics';
import type { RankReply, RankRequest } from './rank-worker.js';
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
 * Waits until the page has had a chance to paint what was just rendered: the next animation frame
 * and one task after it, or 100 ms where frames do not come (a background tab). Work that holds
 * the main thread (the RTF exchange reads WebGL back synchronously) starts after it, so a finished
 * table is on screen, and readable by a test, before the next stage begins.
 *
 * @example
 * renderTable();
 * await painted(() => run === latestRun);
 */
export function painted(isCurrent: () => boolean = () => true): Promise<void> {
  if (typeof requestAnimationFrame !== 'function') return breathe(isCurrent);
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 100);
    requestAnimationFrame(() => {
      clearTimeout(timer);
      resolve();
    });
  }).then(() => breathe(isCurrent));
}

/**
 * The samples each group's row averages. With `authorsRange` (their demo), the sequences of
 * 0..32 the set holds, as the ablation's `analyseDemo` takes them, in the same order; a ratio that
 * lacks one of them is an error naming it (no sequence is left out without a word). Otherwise
 * every sample of each group.
 *
 * @example
 * chosenSamples(set.groups, true)[0].map((s) => s.seq); // [0, 1, ..., 32]
 */
export function chosenSamples(groups: readonly PairGroup[], authorsRange: boolean): PairSample[][] {
  if (!authorsRange) return groups.map((g) => g.samples);
  const present = new Set(groups.flatMap((g) => g.samples.map((s) => s.seq)));
  const wanted = Array.from({ length: AUTHORS_SEQUENCES }, (_, i) => i).filter((s) => present.has(s));
  if (wanted.length === 0) throw new Error(`none of the authors' sequences 0..${AUTHORS_SEQUENCES - 1} is here: untick "authors' sequences" to use all`);
  return groups.map((g) => {
    const bySeq = new Map(g.samples.map((s) => [s.seq, s]));
    const absent = wanted.filter((s) => !bySeq.has(s));
    if (absent.length > 0) throw new Error(`sequences ${absent.join(', ')} have no tokens at observation ratio ${g.ratio} (other ratios have them): untick "authors' sequences" to use what each ratio has`);
    return wanted.map((s) => bySeq.get(s)!);
  });
}

/** What one sample contributes after fusion: the files' exchanged tokens or the page's RTF output. */
export type AfterOf = (sample: PairSample, group: PairGroup, index: number) => { a: TokenMatrix; b: TokenMatrix };

let pool: Worker[] | null | undefined;
let requestId = 0;

/** The rank workers, one per core (2 to 4), or null where the page cannot start them (Node, old browsers). */
function workers(): Worker[] | null {
  if (pool !== undefined) return pool;
  if (typeof Worker === 'undefined') return (pool = null);
  try {
    const n = Math.max(2, Math.min(4, globalThis.navigator?.hardwareConcurrency ?? 2));
    pool = Array.from({ length: n }, () => new Worker(new URL('./rank-worker.ts', import.meta.url), { type: 'module' }));
  } catch {
    pool = null;
  }
  return pool;
}

/** Rough cost of one effective rank: the Gram product plus the n x n eigenvalues. */
const cost = (m: TokenMatrix) => m.rows * m.cols * Math.min(m.rows, m.cols) + Math.min(m.rows, m.cols) ** 3;

function rankInWorker(worker: Worker, request: RankRequest, onDone: (done: number) => void): Promise<Float64Array> {
  return new Promise((resolve, reject) => {
    const onMessage = (e: MessageEvent<RankReply>) => {
      const r = e.data;
      if (r.id !== request.id) return;
      if ('done' in r) return onDone(r.done);
      worker.removeEventListener('message', onMessage);
      worker.removeEventListener('error', onError);
      if ('ranks' in r) resolve(r.ranks);
      else reject(new Error(r.error));
    };
    const onError = (e: ErrorEvent) => {
      worker.removeEventListener('message', onMessage);
      worker.removeEventListener('error', onError);
      reject(new Error(`the rank worker failed: ${e.message}`));
    };
    worker.addEventListener('message', onMessage);
    worker.addEventListener('error', onError);
    worker.postMessage(request, request.matrices.map((m) => m.data.buffer));
  });
}

/**
 * Effective ranks of many matrices into the cache `rankOf` reads: spread over one Web Worker per
 * core where the page can start them (each runs rank-metrics' `effectiveRank`, so the numbers are
 * the same), else computed here with breaks for the progress bar. Matrices already ranked under
 * the variant are skipped.
 *
 * @example
 * await rankAll(matrices, 'authors', { onProgress: (d, t) => console.log(d, t) });
 */
export async function rankAll(
  matrices: readonly TokenMatrix[],
  variant: EffectiveRankVariant,
  options: { onProgress?: Progress; what?: string; isCurrent?: () => boolean } = {},
): Promise<void> {
  const todo = [...new Set(matrices)].filter((m) => ranks.get(m)?.get(variant) === undefined);
  const total = todo.length;
  const what = options.what ?? 'effective ranks';
  const report = (done: number) => options.onProgress?.(done, total, what);
  const team = total >= 16 ? workers() : null;
  if (team) {
    try {
      // Longest first, each to the least loaded worker: the workers finish together.
      const shares = team.map(() => ({ load: 0, items: [] as TokenMatrix[] }));
      for (const m of [...todo].sort((x, y) => cost(y) - cost(x))) {
        const s = shares.reduce((a, b) => (b.load < a.load ? b : a));
        s.load += cost(m);
        s.items.push(m);
      }
      const done = team.map(() => 0);
      const results = await Promise.all(
        shares.map((s, w) =>
          rankInWorker(team[w]!, { id: ++requestId, variant, matrices: s.items.map((m) => ({ data: m.data.slice(), rows: m.rows, cols: m.cols })) }, (d) => {
            done[w] = d;
            report(done.reduce((a, b) => a + b, 0));
          }),
        ),
      );
      shares.forEach((s, w) => s.items.forEach((m, i) => remember(m, variant, results[w]![i]!)));
      report(total);
      if (options.isCurrent && !options.isCurrent()) throw new Superseded();
      return;
    } catch (err) {
      if (err instanceof Superseded) throw err;
      // A worker that cannot start (a host without module workers): rank here instead, from now on.
      for (const w of team) w.terminate();
      pool = null;
    }
  }
  let last = performance.now();
  for (const [i, m] of todo.entries()) {
    rankOf(m, variant);
    if (performance.now() - last > 30) {
      report(i + 1);
      await breathe(options.isCurrent);
      last = performance.now();
    }
  }
  report(total);
}

function remember(m: TokenMatrix, variant: EffectiveRankVariant, rank: number): void {
  let known = ranks.get(m);
  if (!known) ranks.set(m, (known = new Map()));
  known.set(variant, rank);
}

/**
 * The gain table of a pair set, one row per observation ratio: each matrix's effective rank
 * (`rankAll`, cached), then rank-metrics' `meanRankGain`, exactly as the ablation's `analyseDemo`
 * does it, so the page's numbers are the project's.
 *
 * @example
 * const rows = await gainTable(set.groups, (s) => ({ a: s.aAfter!, b: s.bAfter! }), { variant: 'authors', authorsRange: true });
 */
export async function gainTable(
  groups: readonly PairGroup[],
  after: AfterOf,
  options: { variant: EffectiveRankVariant; authorsRange: boolean; onProgress?: Progress; what?: string; isCurrent?: () => boolean },
): Promise<TableRow[]> {
  const chosen = chosenSamples(groups, options.authorsRange);
  const quads = groups.map((group, gi) => chosen[gi]!.map((s) => ({ s, x: after(s, group, group.samples.indexOf(s)) })));
  const all = quads.flat().flatMap(({ s, x }) => [s.a, x.a, s.b, x.b]);
  await rankAll(all, options.variant, options);
  return groups.map((group, gi) => {
    const pr: PairRanks[] = quads[gi]!.map(({ s, x }) => ({ beforeA: rankOf(s.a, options.variant), afterA: rankOf(x.a, options.variant), beforeB: rankOf(s.b, options.variant), afterB: rankOf(x.b, options.variant) }));
    return { ratio: group.ratio, ...meanRankGain(pr) };
  });
}
