import { resolve } from 'node:path';
import type { AblationConfig } from '../config.js';
import { AblationConfigError } from '../errors.js';
import { shardCells } from '../grid.js';
import { openResultFolder, readCell } from '../store/result-folder.js';

/**
 * Slurm's default MaxArraySize is 1001 (array ids 0..1000): a default plan stays inside it.
 */
export const MAX_DEFAULT_SHARDS = 1000;

/** The grid cut into shards, and which shards still have cells to run. */
export interface ShardPlan {
  /** The configuration, its `out` made absolute: the folder every shard writes into. */
  config: AblationConfig;
  /** The shard count N: task k runs every N-th cell from the k-th (`--shard auto/N`). */
  count: number;
  /** Cell ids of the grid, in the order shards cut it. */
  cells: string[];
  /** Cells without a result in the folder yet. */
  missing: string[];
  /** 0-based indices of the shards that hold at least one missing cell: what gets scheduled. */
  shards: number[];
}

/**
 * Cuts the grid into `count` shards (default one per cell, at most 1000) the way `run --shard`
 * does, over the cells the result folder lists, and keeps the shards with a cell that has no
 * `cells/<id>.json` yet. Shards are not re-cut on a re-plan: a shard index always names the same
 * cells, so a task still running from an earlier plan and a new one never train different
 * mixes, and a half-done shard reruns only its missing cells (run skips finished ones). Opens the
 * folder like `run` does, so a folder made with other settings is refused here, before any job.
 *
 * @example
 * const plan = planShards(parseAblationConfig({ seeds: [1], out: 'out/grid' }), 4);
 * plan.shards; // [0, 1, 2, 3] on a fresh folder
 */
export function planShards(config: AblationConfig, count?: number): ShardPlan {
  if (config.dataset === 'darai-demo') {
    throw new AblationConfigError('dataset', 'darai-demo is a rank analysis of the authors\u2019 tokens that runs in seconds: nothing to schedule, run it directly');
  }
  const absolute = { ...config, out: resolve(config.out), shard: undefined };
  const grid = openResultFolder(absolute);
  // the same list run() cuts, so a shard index means the same cells here and in the task
  const cells = grid.cells.filter((c) => absolute.partners.includes(c.partner));
  const n = count ?? Math.min(cells.length, MAX_DEFAULT_SHARDS);
  if (!Number.isInteger(n) || n < 1) throw new AblationConfigError('shards', `expected a positive integer, got ${count}`);
  const done = new Set(cells.filter((c) => readCell(absolute.out, c.id) !== undefined).map((c) => c.id));
  const shards: number[] = [];
  for (let index = 0; index < n; index++) {
    if (shardCells(cells, { index, count: n }).some((c) => !done.has(c.id))) shards.push(index);
  }
  return { config: absolute, count: n, cells: cells.map((c) => c.id), missing: cells.filter((c) => !done.has(c.id)).map((c) => c.id), shards };
}

/**
 * The configuration the jobs run, as a JSON file: every setting resolved (config file, flags,
 * defaults), without what each job sets itself (`out`, `shard`, `progress`).
 *
 * @example
 * writeFileSync('ablation.json', jobConfigJson(config));
 */
export function jobConfigJson(config: AblationConfig): string {
  const { out: _o, shard: _s, progress: _p, ...rest } = config;
  return `${JSON.stringify(rest, null, 2)}\n`;
}

/**
 * Array ids as Slurm's `--array` writes them: runs of consecutive ids become ranges.
 *
 * @example
 * compactRanges([0, 1, 2, 5, 7, 8]); // '0-2,5,7-8'
 */
export function compactRanges(ids: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    parts.push(j > i ? `${ids[i]}-${ids[j]}` : `${ids[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * Quotes a word for a POSIX shell line, leaving plain words (paths, flags) as they are.
 *
 * @example
 * shellQuote("/data/my run"); // "'/data/my run'"
 */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command line that started this process's r3d-ablation (node, its flags such as
 * `--import tsx`, the script's absolute path): what a job on a machine sharing this file system
 * runs unless `--exec` says otherwise.
 *
 * @example
 * thisCommand(); // "/usr/bin/node /repo/apps/ablation/dist/cli.mjs"
 */
export function thisCommand(): string {
  return [process.execPath, ...process.execArgv, resolve(process.argv[1] ?? 'r3d-ablation')].map(shellQuote).join(' ');
}

/**
 * Memory for Slurm (`4G`, `512M`; a bare number is MB) or Kubernetes (`4Gi`), from either form.
 *
 * @example
 * memory('4G', 'k8s'); // '4Gi'
 * memory('4Gi', 'slurm'); // '4G'
 */
export function memory(text: string, target: 'slurm' | 'k8s'): string {
  const m = /^(\d+)(?:([KMGT])(i?)(?:B)?)?$/i.exec(text.trim());
  if (!m) throw new AblationConfigError('mem', `expected an amount like 4G, 512M or 4Gi, got "${text}"`);
  const unit = (m[2] ?? 'M').toUpperCase();
  return target === 'slurm' ? `${m[1]}${unit}` : `${m[1]}${unit}i`;
}
