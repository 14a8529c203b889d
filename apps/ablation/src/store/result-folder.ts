import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@r3d-ts/tensor-io/node';
import type { AblationConfig } from '../config.js';
import { AblationResultError } from '../errors.js';
import { type Cell, gridCells } from '../grid.js';
import type { CellResult } from '../run-cell.js';

// A result folder: `grid.json` (settings and cell list) and `cells/<id>.json` (one finished cell
// each, written atomically), which is all that resume, merge and the report read.

/**
 * The settings that change a cell's numbers (not where it runs or how it is shown), hashed: two
 * folders with the same fingerprint hold comparable cells.
 *
 * @example
 * gridFingerprint(parseAblationConfig({ seeds: [1] })) === gridFingerprint(parseAblationConfig({ seeds: [2] })); // true
 */
export function gridFingerprint(config: AblationConfig): string {
  const { out: _o, backend: _b, shard: _s, progress: _p, partners: _pa, fusers: _f, exchangeRatios: _e, seeds: _se, ...rest } = config;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

/** `grid.json`: the configuration a result folder was made with. */
export interface GridFile {
  fingerprint: string;
  config: AblationConfig;
  cells: Cell[];
}

/**
 * Opens (or starts) a result folder: checks that a folder made before used the same settings, so
 * resumed and merged cells are comparable, and records the grid.
 *
 * @example
 * const grid = openResultFolder(config);
 * const todo = grid.cells.filter((c) => !readCell(config.out, c.id));
 */
export function openResultFolder(config: AblationConfig): GridFile {
  const path = join(config.out, 'grid.json');
  const grid: GridFile = { fingerprint: gridFingerprint(config), config, cells: gridCells(config) };
  if (existsSync(path)) {
    const before = readGridFile(config.out);
    if (before.fingerprint !== grid.fingerprint) {
      throw new AblationResultError(`${config.out} holds results made with other settings (fingerprint ${before.fingerprint}, now ${grid.fingerprint}); choose another --out or delete it`);
    }
    // keep cells another shard or an earlier, wider grid listed
    const ids = new Set(grid.cells.map((c) => c.id));
    grid.cells = [...grid.cells, ...before.cells.filter((c) => !ids.has(c.id))];
  }
  writeGridFile(config.out, grid);
  return grid;
}

/**
 * Reads a folder's `grid.json`, or throws an `AblationResultError` saying why it cannot.
 *
 * @example
 * readGridFile('out/ablation').cells.length; // 14
 */
export function readGridFile(dir: string): GridFile {
  const path = join(dir, 'grid.json');
  if (!existsSync(path)) throw new AblationResultError(`${dir} is not an ablation result folder (no grid.json)`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as GridFile;
  } catch (err) {
    throw new AblationResultError(`${path} is not readable JSON (${(err as Error).message})`);
  }
}

/**
 * Writes a folder's `grid.json` atomically.
 *
 * @example
 * writeGridFile(out, { ...readGridFile(out), cells });
 */
export function writeGridFile(dir: string, grid: GridFile): void {
  writeFileAtomic(join(dir, 'grid.json'), `${JSON.stringify(grid, null, 2)}\n`);
}

/**
 * Where a cell's result lives in a folder.
 *
 * @example
 * cellPath('out/ablation', 'depth.mean.s1'); // 'out/ablation/cells/depth.mean.s1.json'
 */
export function cellPath(dir: string, id: string): string {
  return join(dir, 'cells', `${id}.json`);
}

/**
 * A finished cell's result, or undefined when it has not run (or its file is damaged, so it runs
 * again).
 *
 * @example
 * if (!readCell(out, cell.id)) writeCell(out, await runCell(cell, config, data, options));
 */
export function readCell(dir: string, id: string): CellResult | undefined {
  const path = cellPath(dir, id);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'), reviveNumbers) as CellResult;
  } catch {
    return undefined;
  }
}

/**
 * Writes a finished cell atomically: a run killed while writing leaves the cell to run again, never
 * half a file.
 *
 * @example
 * writeCell('out/ablation', result); // out/ablation/cells/<id>.json
 */
export function writeCell(dir: string, result: CellResult): void {
  writeFileAtomic(cellPath(dir, result.cell.id), `${JSON.stringify(result, replaceNumbers, 2)}\n`);
}

/**
 * Every cell result in a folder.
 *
 * @example
 * readCells('out/ablation').map((r) => r.cell.id);
 */
export function readCells(dir: string): CellResult[] {
  const cells = join(dir, 'cells');
  if (!existsSync(cells)) return [];
  return readdirSync(cells)
    .filter((f) => f.endsWith('.json'))
    .map((f) => readCell(dir, f.slice(0, -5)))
    .filter((c): c is CellResult => c !== undefined);
}

// JSON has no NaN: MoC of a cell with no scored class is NaN, kept as the string "NaN".
function replaceNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
function reviveNumbers(_key: string, value: unknown): unknown {
  return value === 'NaN' || value === 'Infinity' || value === '-Infinity' ? Number(value) : value;
}
/** `JSON.stringify` / `JSON.parse` helpers that keep NaN and infinities (as strings), for every results file. */
export const jsonNumbers = { replace: replaceNumbers, revive: reviveNumbers };
