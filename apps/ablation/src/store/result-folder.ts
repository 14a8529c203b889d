import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { removeOrphanTemporaries, writeFileAtomic } from '@r3d-ts/tensor-io/node';
import { z } from 'zod';
import { ABLATION_FUSERS, ablationConfigSchema, PARTNERS, type AblationConfig } from '../config.js';
import { AblationResultError } from '../errors.js';
import { type Cell, gridCells, groupOf } from '../grid.js';
import type { CellResult } from '../run-cell.js';

// A result folder: `grid.json` (settings and cell list) and `cells/<id>.json` (one finished cell
// each, written atomically), which is all that resume, merge and the report read. Writers hold
// the folder's lock (`lockFolder`); readers check every file strictly, so a damaged or edited
// file is an error naming it, never a cell silently dropped or run again.

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
 * Opens (or starts) a result folder; call it holding the folder's lock. A folder made before must
 * carry the same settings (fingerprint), so resumed and merged cells are comparable, unless it
 * holds no results yet (no finished cell, no cell checkpoint: a run that failed before training
 * anything), or `overwrite` is set: then what it holds is removed and the new settings replace
 * its `grid.json`. The settings are committed (`grid.json`, atomically) before any cell starts,
 * and what a killed run left half-written is removed.
 *
 * @example
 * const grid = openResultFolder(config);
 * const todo = grid.cells.filter((c) => !readCell(config.out, c.id));
 */
export function openResultFolder(config: AblationConfig, options: { overwrite?: boolean } = {}): GridFile {
  const path = join(config.out, 'grid.json');
  const grid: GridFile = { fingerprint: gridFingerprint(config), config, cells: gridCells(config) };
  if (options.overwrite) removeResults(config.out);
  if (existsSync(path)) {
    const before = readGridFile(config.out);
    if (before.fingerprint !== grid.fingerprint) {
      if (holdsResults(config.out)) {
        throw new AblationResultError(`${config.out} holds results made with other settings (fingerprint ${before.fingerprint}, now ${grid.fingerprint}); choose another --out, or pass --overwrite to replace them`);
      }
    } else {
      // keep cells another shard or an earlier, wider grid listed
      const ids = new Set(grid.cells.map((c) => c.id));
      grid.cells = [...grid.cells, ...before.cells.filter((c) => !ids.has(c.id))];
    }
  }
  removeOrphanTemporaries(config.out);
  removeOrphanTemporaries(join(config.out, 'cells'));
  writeGridFile(config.out, grid);
  return grid;
}

/** What a run writes into a result folder (an --overwrite removes these and nothing else). */
const RESULT_ENTRIES = ['grid.json', 'cells', 'runs', 'results.json', 'results.csv', 'report.md', 'index.html', 'figures'];

function removeResults(dir: string): void {
  for (const name of RESULT_ENTRIES) rmSync(join(dir, name), { recursive: true, force: true });
}

/** A finished cell, or a cell checkpoint a rerun would resume. */
function holdsResults(dir: string): boolean {
  const cells = join(dir, 'cells');
  if (existsSync(cells) && readdirSync(cells).some((f) => f.endsWith('.json'))) return true;
  const runs = join(dir, 'runs');
  return existsSync(runs) && readdirSync(runs).some((id) => ['last', 'last.old', 'best'].some((c) => existsSync(join(runs, id, c))));
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
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new AblationResultError(`${path} is not readable JSON (${(err as Error).message})`);
  }
  const parsed = gridFileSchema.safeParse(value);
  if (!parsed.success) throw new AblationResultError(`${path}: expected a grid file (fingerprint, config, cells), found ${issuesOf(parsed.error)}`);
  const grid = value as GridFile;
  const computed = gridFingerprint(grid.config);
  if (computed !== grid.fingerprint) throw new AblationResultError(`${path}: expected fingerprint ${computed} of its settings, found ${grid.fingerprint}: the file was edited`);
  return grid;
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
 * A finished cell's result, or undefined when it has not run. The file must be a cell result of
 * this folder, else an `AblationResultError` names it: valid JSON, every field in range (MoC in
 * [0, 1] or NaN, finite ranks and gains, non-negative seconds), filed under its own id, with
 * the grid fingerprint of the folder's `grid.json` (pass `grid` when it is already read).
 *
 * @example
 * if (!readCell(out, cell.id)) writeCell(out, await runCell(cell, config, data, options));
 */
export function readCell(dir: string, id: string, grid: GridFile = readGridFile(dir)): CellResult | undefined {
  const path = cellPath(dir, id);
  if (!existsSync(path)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'), reviveNumbers);
  } catch (err) {
    throw new AblationResultError(`${path}: expected a cell result, found unreadable JSON (${(err as Error).message}); delete the file to run the cell again`);
  }
  const parsed = cellResultSchema.safeParse(value);
  if (!parsed.success) throw new AblationResultError(`${path}: expected a cell result, found ${issuesOf(parsed.error)}; delete the file to run the cell again`);
  const result = value as CellResult;
  const c = result.cell;
  if (c.id !== id || c.id !== `${groupOf(c)}.s${c.seed}`) throw new AblationResultError(`${path}: expected cell ${id}, found cell ${JSON.stringify(c.id)} (${groupOf(c)}, seed ${c.seed})`);
  if (result.fingerprint !== grid.fingerprint) {
    throw new AblationResultError(`${path}: expected a cell of this folder's settings (fingerprint ${grid.fingerprint}), found fingerprint ${result.fingerprint}`);
  }
  return result;
}

/**
 * Writes a finished cell atomically, stamped with the folder's grid fingerprint: a run killed
 * while writing leaves the cell to run again, never half a file.
 *
 * @example
 * writeCell('out/ablation', result); // out/ablation/cells/<id>.json
 */
export function writeCell(dir: string, result: CellResult): void {
  const stamped: CellResult = { ...result, fingerprint: readGridFile(dir).fingerprint };
  writeFileAtomic(cellPath(dir, result.cell.id), `${JSON.stringify(stamped, replaceNumbers, 2)}\n`);
}

/**
 * Every cell result in a folder, each read strictly (`readCell`): one bad file is an error
 * naming it, and a cell the folder's grid does not list is one too.
 *
 * @example
 * readCells('out/ablation').map((r) => r.cell.id);
 */
export function readCells(dir: string): CellResult[] {
  const cells = join(dir, 'cells');
  if (!existsSync(cells)) return [];
  const grid = readGridFile(dir);
  const listed = new Set(grid.cells.map((c) => c.id));
  return readdirSync(cells)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .sort()
    .map((f) => {
      const id = f.slice(0, -5);
      if (!listed.has(id)) throw new AblationResultError(`${join(cells, f)}: expected a cell of ${join(dir, 'grid.json')}, found cell ${id}, which it does not list`);
      return readCell(dir, id, grid)!;
    });
}

const mocValue = z.union([z.number().min(0).max(1), z.nan()]);
const ratio = z.number().gt(0).lt(1);
const cellSchema = z
  .object({
    id: z.string().min(1),
    partner: z.enum(PARTNERS),
    fuser: z.enum([...ABLATION_FUSERS, 'none']),
    exchangeRatio: ratio.nullable(),
    seed: z.number().int().min(0),
  })
  .strict();
const erank = z.number().min(0);
/** `cells/<id>.json`: what `runCell` returns, with the folder's fingerprint. */
const cellResultSchema = z
  .object({
    cell: cellSchema,
    meanMoc: mocValue,
    moc: z.array(z.object({ observationRatio: ratio, predictionRatio: z.number().gt(0).lte(1), moc: mocValue, classes: z.number().int().min(0), frames: z.number().int().min(0) }).strict()).min(1),
    protocol: z.enum(['released', 'corrected']).optional(),
    afterTokens: z.enum(['exchanged', 'block', 'fused', 'none']),
    ranks: z.array(
      z
        .object({
          observationRatio: ratio,
          samples: z.number().int().min(1),
          erank: z.object({ rgbBefore: erank, rgbAfter: erank, partnerBefore: erank, partnerAfter: erank, fused: erank }).strict(),
          gainRgb: z.number(),
          gainPartner: z.number(),
          balance: z.number().min(0),
        })
        .strict(),
    ),
    trainLoss: z.array(z.number()).min(1),
    seconds: z.number().min(0),
    backend: z.string().min(1),
    fingerprint: z.string(),
  })
  .strict();
const gridFileSchema = z
  .object({
    fingerprint: z.string().regex(/^[0-9a-f]{16}$/),
    config: ablationConfigSchema,
    cells: z.array(cellSchema),
  })
  .strict();

function issuesOf(error: z.ZodError): string {
  const lines = error.issues.slice(0, 4).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  return lines.join('; ') + (error.issues.length > 4 ? `; ... ${error.issues.length - 4} more` : '');
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
