import type { AblationConfig } from '../config.js';
import type { Cell } from '../grid.js';
import type { CellResult } from '../run-cell.js';
import { recommendPartner, type Recommendation } from './recommend.js';
import { type GroupSummary, summariseGroups } from './summary.js';

/** What the report of a grid run is made of: the results in grid order, their summaries and the verdict. */
export interface GridReport {
  config: AblationConfig;
  dataDescription: string;
  backend: string;
  cells: Cell[];
  results: CellResult[];
  groups: GroupSummary[];
  recommendation: Recommendation;
  missing: string[];
}

/**
 * Builds the grid report's content from cell results: sorted into grid order, summarised per
 * group, the verdict, and the cells that have no result yet.
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
  return {
    config,
    dataDescription,
    backend,
    cells,
    results: sorted,
    groups,
    recommendation: recommendPartner(groups, config.fusers),
    missing: cells.filter((c) => !have.has(c.id)).map((c) => c.id),
  };
}
