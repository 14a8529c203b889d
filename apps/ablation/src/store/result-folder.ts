import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE, lockFolder, type LockHolder, OutputFolderLockedError, readFolderLock, removeOrphanTemporaries, writeFileAtomic } from '@r3d-ts/tensor-io/node';
import { z } from 'zod';
import { ABLATION_FUSERS, ablationConfigSchema, PARTNERS, PLANTED_PARTNERS, shardOf, type AblationConfig } from '../config.js';
import { AblationResultError } from '../errors.js';
import { type Cell, gridCells, groupOf } from '../grid.js';
import type { CellResult } from '../run-cell.js';

// A result folder: `grid.json` (settings and cell list) and `cells/<id>.json` (one finished cell
// each, written atomically), which is all that resume, merge and the report read. Readers check
// every file strictly, so a damaged or edited file is an error naming it, never a cell silently
// dropped or run again.
//
// Locks: the folder's own lock (`<out>/.r3d-lock`) is held briefly, to commit settings, register
// a writer, write the report, or for a whole merge. Each run holds a writer lock for as long as
// it trains, `<out>/.r3d-writers/<all | shard-i-of-n>/.r3d-lock`: shards of one grid write one
// folder at once (their cells differ), while runs whose cells overlap, and settings that differ
// from a live writer's, are refused.

/**
 * The settings that change a cell's numbers (not where it runs or how it is shown), hashed: two
 * folders with the same fingerprint hold comparable cells.
 *
 * @example
 * gridFingerprint(parseAblationConfig({ seeds: [1] })) === gridFingerprint(parseAblationConfig({ seeds: [2] })); // true
 */
export function gridFingerprint(config: AblationConfig): string {
  const { out: _o, backend: _b, shard: _s, progress: _p, workers: _w, partners: _pa, fusers: _f, exchangeRatios: _e, seeds: _se, ...rest } = config;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

/** `grid.json`: the configuration a result folder was made with. */
export interface GridFile {
  fingerprint: string;
  config: AblationConfig;
  cells: Cell[];
}

/** How long a command waits for the folder's lock, which others hold only briefly (a settings commit, a report). */
export const FOLDER_LOCK_WAIT_MS = 120_000;
const WRITERS = '.r3d-writers';

/**
 * Opens (or starts) a result folder, holding its lock meanwhile. A folder made before must carry
 * the same settings (fingerprint), so resumed and merged cells are comparable, unless
 * `replaceUnused` is set and it holds no results yet (no finished cell, no cell checkpoint: a run
 * that failed before training anything) and no run is writing it, or `overwrite` is set (refused
 * while another run writes it): then what it holds is removed and the new settings replace its
 * `grid.json`. Runs replace unused settings; a plan does not (its jobs may be queued). The
 * settings are committed (`grid.json`, atomically) before any cell starts, and what a killed run
 * left half-written is removed.
 *
 * @example
 * const grid = openResultFolder(config);
 * const todo = grid.cells.filter((c) => !readCell(config.out, c.id));
 */
export function openResultFolder(config: AblationConfig, options: OpenOptions = {}): GridFile {
  const lock = lockFolder(config.out, { waitMs: FOLDER_LOCK_WAIT_MS });
  try {
    return openLocked(config, options, liveWriters(config.out));
  } finally {
    lock.release();
  }
}

export interface OpenOptions {
  /** Remove what the folder holds and start over (refused while another run writes it). */
  overwrite?: boolean;
  /** Let other settings replace those of a folder that holds no results and no live writer. */
  replaceUnused?: boolean;
}

/** A run registered as a writer of a result folder (see `openForWriting`). */
export interface ResultWriter {
  grid: GridFile;
  /** `all`, or `shard-<i>-of-<n>`: which cells this writer trains. */
  key: string;
  release(): void;
}

/**
 * Opens a result folder for a run (`openResultFolder`) and registers the run as its writer until
 * `release()`: a writer lock naming its shard (or `all`). Another live writer whose cells may
 * overlap (the same shard, another shard count, or a whole-grid run) is an
 * `OutputFolderLockedError` naming its pid and host; shards of one grid write side by side. A
 * second registration in one process nests.
 *
 * @example
 * const writer = openForWriting(config);
 * try { train(writer.grid.cells); } finally { writer.release(); }
 */
export function openForWriting(config: AblationConfig, options: OpenOptions = {}): ResultWriter {
  const key = writerKey(config);
  const lock = lockFolder(config.out, { waitMs: FOLDER_LOCK_WAIT_MS });
  let grid: GridFile;
  let writer: ReturnType<typeof lockFolder>;
  try {
    const others = liveWriters(config.out);
    const clash = others.find((w) => overlaps(w.key, key));
    if (clash) throw new OutputFolderLockedError(config.out, clash.holder, join(clash.dir, LOCK_FILE));
    grid = openLocked(config, { replaceUnused: true, ...options }, others);
    writer = lockFolder(join(config.out, WRITERS, key));
  } finally {
    lock.release();
  }
  let released = false;
  return {
    grid,
    key,
    release: () => {
      if (released) return;
      released = true;
      writer.release();
      if (existsSync(writer.path)) return; // an outer registration of this process still holds it
      let folder: ReturnType<typeof lockFolder> | undefined;
      try {
        // tidy up under the folder's lock, so no registration is in the middle of creating them
        folder = lockFolder(config.out, { waitMs: FOLDER_LOCK_WAIT_MS });
        removeEmptyFolder(writer.dir);
        removeEmptyFolder(join(config.out, WRITERS));
      } catch {
        // an empty writer folder left behind is harmless: the next registration removes it
      } finally {
        folder?.release();
      }
    },
  };
}

function writerKey(config: AblationConfig): string {
  if (!config.shard) return 'all';
  const { index, count } = shardOf(config.shard);
  return `shard-${index + 1}-of-${count}`;
}

/** Whether two writers may train a cell in common: shards of one count are disjoint, nothing else is known to be. */
function overlaps(a: string, b: string): boolean {
  const shard = (k: string) => /^shard-(\d+)-of-(\d+)$/.exec(k);
  const x = shard(a);
  const y = shard(b);
  if (!x || !y) return true;
  return x[2] !== y[2] || x[1] === y[1];
}

/**
 * The runs writing a folder now, other than this process (their writer locks are live); stale
 * registrations are removed. Call it holding the folder's lock.
 *
 * @example
 * liveWriters('out/grid').map((w) => w.key); // ['shard-1-of-4', 'shard-3-of-4']
 */
export function liveWriters(out: string): Array<{ key: string; dir: string; holder: LockHolder | undefined }> {
  const root = join(out, WRITERS);
  if (!existsSync(root)) return [];
  const live: Array<{ key: string; dir: string; holder: LockHolder | undefined }> = [];
  for (const key of readdirSync(root)) {
    const dir = join(root, key);
    const lock = readFolderLock(dir);
    if (lock?.live) {
      if (lock.holder?.pid === process.pid && lock.holder.host === hostname()) continue; // this process, registered earlier
      live.push({ key, dir, holder: lock.holder });
    } else rmSync(dir, { recursive: true, force: true });
  }
  return live;
}

function removeEmptyFolder(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (another writer), or already gone
  }
}

function openLocked(config: AblationConfig, options: OpenOptions, writers: ReturnType<typeof liveWriters>): GridFile {
  const path = join(config.out, 'grid.json');
  const grid: GridFile = { fingerprint: gridFingerprint(config), config, cells: gridCells(config) };
  if (options.overwrite) {
    if (writers[0]) throw new OutputFolderLockedError(config.out, writers[0].holder, join(writers[0].dir, LOCK_FILE));
    removeResults(config.out);
  }
  if (existsSync(path)) {
    const before = readGridFile(config.out);
    if (before.fingerprint !== grid.fingerprint) {
      if (writers[0]) {
        const h = writers[0].holder;
        throw new AblationResultError(`${config.out} is being written with other settings (fingerprint ${before.fingerprint}, now ${grid.fingerprint}) by ${h ? `pid ${h.pid} on host ${h.host}` : 'another run'}; choose another --out`);
      }
      if (!options.replaceUnused) {
        throw new AblationResultError(`${config.out} holds results made with other settings, or their plan (grid.json: fingerprint ${before.fingerprint}, now ${grid.fingerprint}); choose another --out`);
      }
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
    partner: z.enum([...PARTNERS, ...PLANTED_PARTNERS]),
    fuser: z.enum([...ABLATION_FUSERS, 'none']),
    exchangeRatio: ratio.nullable(),
    seed: z.number().int().min(0),
  })
  .strict();
const erank = z.number().min(0);
const mocCells = z.array(z.object({ observationRatio: ratio, predictionRatio: z.number().gt(0).lte(1), moc: mocValue, classes: z.number().int().min(0), frames: z.number().int().min(0) }).strict()).min(1);
/** A baseline's MoC as `analysis/baselines.ts` scores it (its BASELINES, named here so the store loads no tf). */
const baselineSchema = z.object({ name: z.enum(['majority-class', 'repeat-last']), description: z.string(), meanMoc: mocValue, moc: mocCells, protocol: z.enum(['released', 'corrected']) }).strict();
/** `cells/<id>.json`: what `runCell` returns, with the folder's fingerprint (and the run's baselines). */
const cellResultSchema = z
  .object({
    cell: cellSchema,
    meanMoc: mocValue,
    moc: mocCells,
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
    baselines: z.array(baselineSchema).optional(),
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
