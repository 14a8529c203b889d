import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { harmonicBalance } from '@r3d-ts/rank-metrics';
import { writeFileAtomic } from '@r3d-ts/tensor-io/node';
import type { AblationConfig } from './config.js';
import { AblationResultError } from './errors.js';
import { type Cell, gridCells, groupOf } from './grid.js';
import type { CellResult } from './run-cell.js';

/** The settings that change a cell's numbers (not where it runs or how it is shown). */
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
  writeFileAtomic(path, `${JSON.stringify(grid, null, 2)}\n`);
  return grid;
}

export function readGridFile(dir: string): GridFile {
  const path = join(dir, 'grid.json');
  if (!existsSync(path)) throw new AblationResultError(`${dir} is not an ablation result folder (no grid.json)`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as GridFile;
  } catch (err) {
    throw new AblationResultError(`${path} is not readable JSON (${(err as Error).message})`);
  }
}

export function cellPath(dir: string, id: string): string {
  return join(dir, 'cells', `${id}.json`);
}

/** A finished cell's result, or undefined when it has not run (or its file is damaged). */
export function readCell(dir: string, id: string): CellResult | undefined {
  const path = cellPath(dir, id);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'), reviveNumbers) as CellResult;
  } catch {
    return undefined;
  }
}

export function writeCell(dir: string, result: CellResult): void {
  writeFileAtomic(cellPath(dir, result.cell.id), `${JSON.stringify(result, replaceNumbers, 2)}\n`);
}

/** Every cell result in a folder. */
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
export const jsonNumbers = { replace: replaceNumbers, revive: reviveNumbers };

/**
 * Joins result folders (e.g. one per shard) into `out`: every input must carry the same settings
 * (grid fingerprint); their cells are copied into `out/cells`. A cell present in two inputs must
 * agree (same file content apart from timing), else the merge stops.
 */
export function mergeResultFolders(out: string, inputs: readonly string[]): GridFile {
  if (inputs.length === 0) throw new AblationResultError('merge: name at least one result folder');
  const grids = inputs.map((d) => readGridFile(d));
  const first = grids[0]!;
  grids.forEach((g, i) => {
    if (g.fingerprint !== first.fingerprint) throw new AblationResultError(`merge: ${inputs[i]} was made with other settings (fingerprint ${g.fingerprint}) than ${inputs[0]} (${first.fingerprint})`);
  });
  const cells = new Map<string, Cell>();
  for (const g of grids) for (const c of g.cells) cells.set(c.id, c);
  const merged: GridFile = { fingerprint: first.fingerprint, config: { ...first.config, out, shard: undefined } as AblationConfig, cells: [...cells.values()] };
  if (existsSync(join(out, 'grid.json')) && readGridFile(out).fingerprint !== merged.fingerprint) {
    throw new AblationResultError(`merge: ${out} already holds results made with other settings`);
  }
  const seen = new Map<string, CellResult>();
  for (const dir of inputs) {
    for (const r of readCells(dir)) {
      const before = seen.get(r.cell.id);
      if (before && JSON.stringify({ ...before, seconds: 0 }) !== JSON.stringify({ ...r, seconds: 0 })) {
        throw new AblationResultError(`merge: cell ${r.cell.id} differs between inputs`);
      }
      seen.set(r.cell.id, r);
    }
  }
  delete (merged.config as Partial<AblationConfig>).shard;
  writeFileAtomic(join(out, 'grid.json'), `${JSON.stringify(merged, null, 2)}\n`);
  for (const r of seen.values()) writeCell(out, r);
  return merged;
}

/** Mean and sample standard deviation (0 for one value). */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** One (partner, fuser, ratio) group over its seeds. */
export interface GroupSummary {
  group: string;
  partner: Cell['partner'];
  fuser: Cell['fuser'];
  exchangeRatio: number | null;
  seeds: number[];
  meanMoc: { mean: number; std: number; n: number };
  /** Per (obs, pred): MoC mean +- std over seeds. */
  moc: Array<{ observationRatio: number; predictionRatio: number; mean: number; std: number }>;
  /** Per rank observation ratio: gains averaged over seeds and H of those means. */
  ranks: Array<{ observationRatio: number; gainRgb: number; gainPartner: number; balance: number; balanceStd: number }>;
  /** Mean over observation ratios of H (the partner's overall balance). */
  meanBalance: number;
  afterTokens: CellResult['afterTokens'];
  seconds: number;
}

export function summariseGroups(results: readonly CellResult[]): GroupSummary[] {
  const groups = new Map<string, CellResult[]>();
  for (const r of results) {
    const g = groupOf(r.cell);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(r);
  }
  const out: GroupSummary[] = [];
  for (const [group, rs] of groups) {
    rs.sort((a, b) => a.cell.seed - b.cell.seed);
    const c = rs[0]!.cell;
    const mocKeys = rs[0]!.moc.map((m) => [m.observationRatio, m.predictionRatio] as const);
    const moc = mocKeys.map(([o, p]) => {
      const s = meanStd(rs.map((r) => r.moc.find((m) => m.observationRatio === o && m.predictionRatio === p)?.moc ?? Number.NaN));
      return { observationRatio: o, predictionRatio: p, mean: s.mean, std: s.std };
    });
    const ranks = rs[0]!.ranks.map((p0) => {
      const pts = rs.map((r) => r.ranks.find((p) => p.observationRatio === p0.observationRatio)!).filter(Boolean);
      const gainRgb = meanStd(pts.map((p) => p.gainRgb)).mean;
      const gainPartner = meanStd(pts.map((p) => p.gainPartner)).mean;
      return { observationRatio: p0.observationRatio, gainRgb, gainPartner, balance: harmonicBalance(gainRgb, gainPartner), balanceStd: meanStd(pts.map((p) => p.balance)).std };
    });
    out.push({
      group,
      partner: c.partner,
      fuser: c.fuser,
      exchangeRatio: c.exchangeRatio,
      seeds: rs.map((r) => r.cell.seed),
      meanMoc: meanStd(rs.map((r) => r.meanMoc)),
      moc,
      ranks,
      meanBalance: ranks.length ? ranks.reduce((a, p) => a + p.balance, 0) / ranks.length : Number.NaN,
      afterTokens: rs[0]!.afterTokens,
      seconds: rs.reduce((a, r) => a + r.seconds, 0),
    });
  }
  const partnerOrder = ['rgb', 'depth', 'text', 'imu'];
  return out.sort((a, b) => partnerOrder.indexOf(a.partner) - partnerOrder.indexOf(b.partner) || a.group.localeCompare(b.group));
}

/** The verdict: which partner balances RGB best, which anticipates best, and whether they agree. */
export interface Recommendation {
  fuser: string;
  byBalance: { partner: string; meanBalance: number } | null;
  byMoc: { partner: string; meanMoc: number; std: number } | null;
  rgbOnlyMoc: number | null;
  agree: boolean;
  text: string;
}

/**
 * Picks, for the primary fuser (the first RTF fuser of the grid, else the first fuser), the
 * partner with the highest mean balance H over observation ratios and the one with the best mean
 * MoC over seeds, and says whether they agree.
 */
export function recommendPartner(groups: readonly GroupSummary[], fusers: readonly string[]): Recommendation {
  const fuser = fusers.find((f) => f.startsWith('rtf-')) ?? fusers[0] ?? 'none';
  const candidates = groups.filter((g) => g.partner !== 'rgb' && g.fuser === fuser);
  // with several exchange ratios, a partner is judged by its best ratio
  const best = <K extends 'meanBalance'>(key: K) => {
    const byPartner = new Map<string, GroupSummary>();
    for (const g of candidates) {
      const have = byPartner.get(g.partner);
      if (!have || g[key] > have[key]) byPartner.set(g.partner, g);
    }
    return [...byPartner.values()];
  };
  const byB = best('meanBalance').filter((g) => Number.isFinite(g.meanBalance)).sort((a, b) => b.meanBalance - a.meanBalance)[0];
  const mocPartners = new Map<string, GroupSummary>();
  for (const g of candidates) {
    const have = mocPartners.get(g.partner);
    if (!have || g.meanMoc.mean > have.meanMoc.mean) mocPartners.set(g.partner, g);
  }
  const byM = [...mocPartners.values()].filter((g) => Number.isFinite(g.meanMoc.mean)).sort((a, b) => b.meanMoc.mean - a.meanMoc.mean)[0];
  const rgb = groups.find((g) => g.partner === 'rgb');
  const agree = !!byB && !!byM && byB.partner === byM.partner;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  let text: string;
  if (!byB || !byM) text = `No partner of RGB was trained with ${fuser}: nothing to recommend.`;
  else {
    text =
      `With ${fuser}, **${byB.partner}** keeps RGB from collapsing best (mean balance H ${byB.meanBalance.toFixed(3)} over observation ratios), ` +
      `and **${byM.partner}** anticipates best (mean MoC ${pct(byM.meanMoc.mean)} +- ${pct(byM.meanMoc.std)}` +
      (rgb ? `; RGB alone ${pct(rgb.meanMoc.mean)}` : '') +
      `). ${agree ? 'The two criteria agree.' : 'The two criteria disagree: a higher rank balance did not translate into better anticipation on this data.'}`;
  }
  return {
    fuser,
    byBalance: byB ? { partner: byB.partner, meanBalance: byB.meanBalance } : null,
    byMoc: byM ? { partner: byM.partner, meanMoc: byM.meanMoc.mean, std: byM.meanMoc.std } : null,
    rgbOnlyMoc: rgb ? rgb.meanMoc.mean : null,
    agree,
    text,
  };
}
