// Test-only helpers: a tiny grid that trains in seconds and a CLI runner.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AblationConfigInput } from './config.js';

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

/** Runs the CLI from source (tsx) and returns its exit status and output. */
export function runCli(args: string[], options: { cwd?: string; timeout?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', join(appDir, 'src', 'cli.ts'), ...args], {
    cwd: options.cwd ?? appDir,
    encoding: 'utf8',
    timeout: options.timeout ?? 120_000,
    env: { ...process.env, R3D_BACKEND: 'wasm' },
  });
}
