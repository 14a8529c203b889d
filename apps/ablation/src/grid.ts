import type { AblationConfig, AblationFuser, Partner } from './config.js';

/** One training run of the grid: a partner, a fuser, an exchange ratio (when it applies), a seed. */
export interface Cell {
  /** Stable file-name-safe id, e.g. `depth.rtf-variance.r0.3.s1`. */
  id: string;
  partner: Partner;
  /** `none` for the RGB-only baseline. */
  fuser: AblationFuser | 'none';
  /** Exchange ratio of rtf-* and hard-swap; null for fusers that exchange nothing. */
  exchangeRatio: number | null;
  seed: number;
}

/** Fusers whose exchange ratio matters. */
export function usesExchangeRatio(fuser: AblationFuser | 'none'): boolean {
  return fuser.startsWith('rtf-') || fuser === 'hard-swap';
}

/** The (partner, fuser, ratio) group a cell belongs to, i.e. its id without the seed. */
export function groupOf(cell: Pick<Cell, 'partner' | 'fuser' | 'exchangeRatio'>): string {
  return [cell.partner, cell.fuser, ...(cell.exchangeRatio != null ? [`r${cell.exchangeRatio}`] : [])].join('.');
}

/**
 * Every cell of the grid in a fixed order (partner, fuser, ratio, seed). RGB alone is one cell
 * per seed whatever the fusers, since there is nothing to fuse.
 *
 * @example
 * gridCells(config).map((c) => c.id); // ['rgb.none.s1', 'depth.rtf-variance.r0.3.s1', ...]
 */
export function gridCells(config: Pick<AblationConfig, 'partners' | 'fusers' | 'exchangeRatios' | 'seeds'>): Cell[] {
  const cells: Cell[] = [];
  const partners = [...new Set(config.partners)];
  for (const partner of partners) {
    const combos: Array<{ fuser: AblationFuser | 'none'; exchangeRatio: number | null }> = [];
    if (partner === 'rgb') combos.push({ fuser: 'none', exchangeRatio: null });
    else {
      for (const fuser of new Set(config.fusers)) {
        if (usesExchangeRatio(fuser)) for (const r of new Set(config.exchangeRatios)) combos.push({ fuser, exchangeRatio: r });
        else combos.push({ fuser, exchangeRatio: null });
      }
    }
    for (const combo of combos) {
      for (const seed of new Set(config.seeds)) {
        const base = { partner, ...combo };
        cells.push({ id: `${groupOf(base)}.s${seed}`, ...base, seed });
      }
    }
  }
  return cells;
}

/**
 * The cells of shard `index` of `count` (0-based): round-robin, so every shard gets a similar
 * mix of cheap and costly cells, and the union of all shards is the grid.
 */
export function shardCells(cells: readonly Cell[], shard: { index: number; count: number } | undefined): Cell[] {
  if (!shard) return [...cells];
  return cells.filter((_, i) => i % shard.count === shard.index);
}
