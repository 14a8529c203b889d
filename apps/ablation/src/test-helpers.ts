// Test-only helpers: a tiny grid that trains in seconds and a CLI runner.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtEntry } from '@r3d-ts/tooling/vitest/built-entry';
import type { AblationConfigInput } from './config.js';
import type { Cell } from './grid.js';
import type { CellResult } from './run-cell.js';
import { readGridFile, writeCell } from './store/result-folder.js';

export const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A grid small enough for a test: 8 short synthetic videos, C = 32, one epoch. */
export function tinyConfig(out: string, extra: AblationConfigInput = {}): AblationConfigInput {
  return {
    partners: ['rgb', 'depth', 'text'],
    fusers: ['rtf-variance'],
    seeds: [1],
    epochs: 1,
    batchSize: 8,
    rankObservationRatios: [0.3, 0.6, 0.9],
    predictionRatios: [0.2, 0.5],
    model: { hidden: 32, heads: 4, ffnDim: 64 },
    synthetic: { count: 8, sampleRate: 4 },
    backend: 'wasm',
    progress: false,
    out,
    ...extra,
  };
}

/** The built `r3d-ablation` (rebuilt first when the sources are newer): tests spawn it as users run it. */
export function cliPath(): string {
  return builtEntry(appDir);
}

/**
 * Runs the built CLI (`cliPath`) and returns its exit status and output; on wasm unless
 * `options.defaultBackend` leaves the app its own default (native-blas, else wasm).
 */
export function runCli(args: string[], options: { cwd?: string; timeout?: number; defaultBackend?: boolean } = {}): SpawnSyncReturns<string> {
  const { R3D_BACKEND: _backend, ...env } = process.env;
  return spawnSync(process.execPath, [cliPath(), ...args], {
    cwd: options.cwd ?? appDir,
    encoding: 'utf8',
    timeout: options.timeout ?? 120_000,
    env: options.defaultBackend ? env : { ...env, R3D_BACKEND: 'wasm' },
  });
}

/** A made-up but well-formed result for `cell` (MoC 25%, two epochs). */
export function fakeCellResult(cell: Cell): CellResult {
  return {
    cell,
    meanMoc: 0.25,
    moc: [{ observationRatio: 0.2, predictionRatio: 0.5, moc: 0.25, classes: 5, frames: 40 }],
    afterTokens: cell.partner === 'rgb' ? 'none' : 'exchanged',
    ranks: [{ observationRatio: 0.5, samples: 4, erank: { rgbBefore: 3, rgbAfter: 3.5, partnerBefore: 2, partnerAfter: 2.5, fused: 4 }, gainRgb: 0.5, gainPartner: 0.5, balance: 0.5 }],
    trainLoss: [2, 1.5],
    seconds: 1.5,
    backend: 'wasm',
  };
}

/** Marks cells of a result folder finished, with made-up results (the folder's grid.json lists them). */
export function fakeFinishedCells(out: string, ids: string[]): void {
  const cells = readGridFile(out).cells;
  for (const id of ids) writeCell(out, fakeCellResult(cells.find((c) => c.id === id)!));
}
