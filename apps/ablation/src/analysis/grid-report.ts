import type { AblationConfig } from '../config.js';
import type { Cell } from '../grid.js';
import type { CellResult } from '../run-cell.js';
import type { BaselineResult } from './baselines.js';
import { compareGroups, type Comparison } from './comparisons.js';
import { recommendPartner, type Recommendation } from './recommend.js';
import { type GroupSummary, summariseGroups } from './summary.js';
import { type Verdict, verdictOf } from './verdict.js';

/** What the report of a grid run is made of: the results in grid order, their summaries and the verdict. */
export interface GridReport {
  config: AblationConfig;
  dataDescription: string;
  backend: string;
  cells: Cell[];
  results: CellResult[];
  groups: GroupSummary[];
  /** The baselines the cells recorded (majority class, repeat last observed action); empty for cells made before them. */
  baselines: BaselineResult[];
  /** Every paired comparison, Holm-adjusted together. */
  comparisons: Comparison[];
  /** Claims (adjusted p < 0.05 only) and caveats. */
  verdict: Verdict;
  /** The descriptive leaders (highest mean H, best mean MoC) of the primary fuser; its `text` is the verdict's. */
  recommendation: Recommendation;
  missing: string[];
}

/**
 * Builds the grid report's content from cell results: sorted into grid order, summarised per
 * group with intervals, the baselines, the Holm-adjusted paired comparisons, the verdict, and the
 * cells that have no result yet.
 *
 * @example
 * const report = gridReport(config, grid.cells, readCells(out), 'synthetic (seed 1, ...)', 'wasm');
 * await writeGridReport(out, report);
 */
export function gridReport(config: AblationConfig, cells: Cell[], results: CellResult[], dataDescription: string, backend: string): GridReport {
  const order = new Map(cells.map((c, i) => [c.id, i]));
  const sorted = [...results].sort((a, b) => (order.get(a.cell.id) ?? 1e9) - (order.get(b.cell.id) ?? 1e9));
  const groups = summariseGroups(sorted);
  const have = new Set(sorted.map((r) => r.cell.id));
  const baselines = sorted.find((r) => r.baselines?.length)?.baselines ?? [];
  const comparisons = compareGroups(sorted, groups, baselines);
  const verdict = verdictOf(groups, comparisons, baselines, { fusers: config.fusers, dataset: config.dataset, partners: config.partners });
  return {
    config,
    dataDescription,
    backend,
    cells,
    results: sorted,
    groups,
    baselines,
    comparisons,
    verdict,
    recommendation: { ...recommendPartner(groups, config.fusers), text: verdict.text },
    missing: cells.filter((c) => !have.has(c.id)).map((c) => c.id),
  };
}
