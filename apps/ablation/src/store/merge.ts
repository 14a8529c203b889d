import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_FILE, lockFolder, OutputFolderLockedError } from '@r3d-ts/tensor-io/node';
import type { AblationConfig } from '../config.js';
import { AblationResultError } from '../errors.js';
import type { Cell } from '../grid.js';
import type { CellResult } from '../run-cell.js';
import { FOLDER_LOCK_WAIT_MS, type GridFile, liveWriters, readCells, readGridFile, writeCell, writeGridFile } from './result-folder.js';

/**
 * Joins result folders (e.g. one per shard) into `out`: every input must carry the same settings
 * (grid fingerprint); their cells are copied into `out/cells`. A cell present in two inputs (or
 * already in `out`) must agree (same file content apart from timing), else the merge stops. Every
 * cell is read strictly (`readCell`): a damaged, empty, out-of-range or foreign cell is an
 * `AblationResultError` naming its file, and nothing is written. `out` is locked meanwhile, and a
 * merge into a folder that runs are writing is refused.
 *
 * @example
 * mergeResultFolders('out/all', ['out/shard1', 'out/shard2']);
 * await writeReportFor('out/all');
 */
export function mergeResultFolders(out: string, inputs: readonly string[]): GridFile {
  if (inputs.length === 0) throw new AblationResultError('merge: name at least one result folder');
  const lock = lockFolder(out, { waitMs: FOLDER_LOCK_WAIT_MS });
  try {
    const [writer] = liveWriters(out);
    if (writer) throw new OutputFolderLockedError(out, writer.holder, join(writer.dir, LOCK_FILE));
    return mergeLocked(out, inputs);
  } finally {
    lock.release();
  }
}

function mergeLocked(out: string, inputs: readonly string[]): GridFile {
  const grids = inputs.map((d) => readGridFile(d));
  const first = grids[0]!;
  grids.forEach((g, i) => {
    if (g.fingerprint !== first.fingerprint) throw new AblationResultError(`merge: ${inputs[i]} was made with other settings (fingerprint ${g.fingerprint}) than ${inputs[0]} (${first.fingerprint})`);
  });
  const cells = new Map<string, Cell>();
  for (const g of grids) for (const c of g.cells) cells.set(c.id, c);
  const merged: GridFile = { fingerprint: first.fingerprint, config: { ...first.config, out, shard: undefined } as AblationConfig, cells: [...cells.values()] };
  const existing = existsSync(join(out, 'grid.json')) ? readGridFile(out) : undefined;
  if (existing && existing.fingerprint !== merged.fingerprint) {
    throw new AblationResultError(`merge: ${out} already holds results made with other settings`);
  }
  if (existing) merged.cells = [...merged.cells, ...existing.cells.filter((c) => !cells.has(c.id))];
  const seen = new Map<string, CellResult>();
  for (const dir of [...(existing ? [out] : []), ...inputs]) {
    for (const r of readCells(dir)) {
      const before = seen.get(r.cell.id);
      if (before && JSON.stringify({ ...before, seconds: 0, fingerprint: '' }) !== JSON.stringify({ ...r, seconds: 0, fingerprint: '' })) {
        throw new AblationResultError(`merge: cell ${r.cell.id} differs between inputs`);
      }
      seen.set(r.cell.id, r);
    }
  }
  delete (merged.config as Partial<AblationConfig>).shard;
  writeGridFile(out, merged);
  for (const r of seen.values()) writeCell(out, r);
  return merged;
}
