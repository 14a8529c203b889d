import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SummaryWriter } from '@r3d-ts/tensorboard/node';
import type { CellResult } from './run-cell.js';

/**
 * Adds a finished cell's test numbers to its TensorBoard run folder (`runs/<cell-id>/`, next to
 * the training curves the trainer wrote there), at the cell's last training step, so
 * `tensorboard --logdir <out>/runs` compares cells: `test/moc_mean`, `test/moc/obs<o>_pred<p>`,
 * and per rank observation ratio `test/effective_rank/obs<o>/<rgb|partner>_<before|after>`,
 * `test/effective_rank/obs<o>/fused`, `test/rank_gain/obs<o>/<rgb|partner>` and `test/balance/obs<o>`.
 *
 * @example
 * logCellResult('out/ablation/runs/depth.rtf.r0.1.s1', 480, result);
 */
export function logCellResult(runDir: string, step: number, result: Pick<CellResult, 'meanMoc' | 'moc' | 'ranks'>): void {
  const values: Record<string, number> = { 'test/moc_mean': result.meanMoc };
  for (const c of result.moc) values[`test/moc/obs${c.observationRatio}_pred${c.predictionRatio}`] = c.moc;
  for (const p of result.ranks) {
    const at = `obs${p.observationRatio}`;
    const e = p.erank;
    Object.assign(values, {
      [`test/effective_rank/${at}/rgb_before`]: e.rgbBefore,
      [`test/effective_rank/${at}/rgb_after`]: e.rgbAfter,
      [`test/effective_rank/${at}/partner_before`]: e.partnerBefore,
      [`test/effective_rank/${at}/partner_after`]: e.partnerAfter,
      [`test/effective_rank/${at}/fused`]: e.fused,
      [`test/rank_gain/${at}/rgb`]: p.gainRgb,
      [`test/rank_gain/${at}/partner`]: p.gainPartner,
      [`test/balance/${at}`]: p.balance,
    });
  }
  new SummaryWriter(runDir).scalars(values, step).close();
}

/**
 * Deletes a finished cell's checkpoints and training log, which only served its resume, and
 * keeps its TensorBoard event files.
 *
 * @example
 * removeCellCheckpoints(cellRunDir(out, cell));
 */
export function removeCellCheckpoints(runDir: string): void {
  let names: string[];
  try {
    names = readdirSync(runDir);
  } catch {
    return;
  }
  for (const name of names) if (!name.includes('tfevents')) rmSync(join(runDir, name), { recursive: true, force: true });
}
