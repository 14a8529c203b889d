// Builders of small inputs (good and damaged) in the layouts the commands read.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encodeNpy } from '@r3d-ts/tensor-io';

let base: string | undefined;

/** A new folder under this test file's scratch folder (removed by `removeTempDirs`). */
export function tempDir(prefix: string): string {
  base ??= mkdtempSync(join(tmpdir(), 'r3d-hostile-'));
  return mkdtempSync(join(base, `${prefix}-`));
}

/** Removes every folder `tempDir` made (call it in afterAll). */
export function removeTempDirs(): void {
  if (base) rmSync(base, { recursive: true, force: true });
  base = undefined;
}

export function write(path: string, content: string | Uint8Array): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** A `(rows, cols)` float32 `.npy` with smooth, varied values (a matrix of full rank). */
export function matrixNpy(shape: number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return encodeNpy({ shape, data: Float32Array.from({ length: n }, (_, i) => Math.sin(0.37 * i) + 0.1 * (i % 7)) });
}

export interface FutrVideo {
  split: 'train' | 'val';
  labels: number;
  /** The features file's bytes (default: labels x 8 floats). */
  features?: Uint8Array;
}

/**
 * A FUTR layout (`mapping.txt`, `splits/{train,val}.bundle`, `groundTruth/`, `features/`) with two
 * classes and the given videos; returns its root.
 */
export function futrLayout(videos: Record<string, FutrVideo>): string {
  const root = tempDir('futr');
  write(join(root, 'mapping.txt'), '0 Mixing\n1 Pouring\n');
  for (const split of ['train', 'val'] as const) {
    write(join(root, 'splits', `${split}.bundle`), Object.entries(videos).filter(([, v]) => v.split === split).map(([id]) => `${id}.txt`).join('\n'));
  }
  for (const [id, v] of Object.entries(videos)) {
    write(join(root, 'groundTruth', `${id}.txt`), Array.from({ length: v.labels }, (_, i) => `f${i},${i < v.labels / 2 ? 'Mixing' : 'Pouring'},x`).join('\n'));
    write(join(root, 'features', `${id}.npy`), v.features ?? matrixNpy([v.labels, 8]));
  }
  return root;
}

/** A small r3d run configuration (one epoch, tiny model, wasm) around a data section; returns its path. */
export function r3dConfig(dir: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return write(
    join(dir, 'r3d.json'),
    JSON.stringify({
      epochs: 1,
      warmupEpochs: 0,
      batchSize: 4,
      backend: 'wasm',
      rankMonitor: { enabled: false },
      model: { hidden: 16, heads: 2, ffnDim: 32 },
      data,
      ...extra,
    }),
  );
}

/** The synthetic data section of a run that trains in about a second. */
export const TINY_SYNTHETIC = { kind: 'synthetic', count: 5, height: 8, width: 8, featureDim: 16 } as const;

/** A FUTR data section for `futrLayout` folders (text partner: no depth files needed). */
export const futrData = (root: string) => ({ kind: 'futr', root, trainSplit: 'train.bundle', valSplit: 'val.bundle', partner: 'text' });

const DEMO_KINDS = ['rgb_raw', 'depth_raw', 'exchanged_rgb', 'exchanged_depth'] as const;

/**
 * The converted darai-demo layout (`manifest.json` + `<kind>_obs<r>.npy`) with the given
 * sequences at ratio 0.5, `channels` wide; `frames` per sequence (0 makes a zero-length one).
 */
export function daraiDemo(sequences: Record<number, number>, options: { channels?: number; shapeOf?: (kind: string, rows: number, cols: number) => number[] } = {}): string {
  const root = tempDir('darai-demo');
  const channels = options.channels ?? 4;
  const entries: Array<{ sequence: number; offset: number; frames: number }> = [];
  let offset = 0;
  for (const [seq, frames] of Object.entries(sequences)) {
    entries.push({ sequence: Number(seq), offset, frames });
    offset += frames;
  }
  write(join(root, 'manifest.json'), JSON.stringify({ channels, ratios: { '0.5': entries } }));
  for (const kind of DEMO_KINDS) write(join(root, `${kind}_obs0.5.npy`), matrixNpy(options.shapeOf?.(kind, offset, channels) ?? [offset, channels]));
  return root;
}

/** A small ablation grid (one cell, one epoch, tiny model); returns the config file's path. */
export function ablationConfig(dir: string, extra: Record<string, unknown> = {}): string {
  return write(
    join(dir, 'ablation.json'),
    JSON.stringify({
      partners: ['depth'],
      fusers: ['mean'],
      seeds: [1],
      epochs: 1,
      batchSize: 8,
      rankObservationRatios: [0.5],
      evalObservationRatios: [0.3],
      predictionRatios: [0.5],
      model: { hidden: 16, heads: 2, ffnDim: 32 },
      synthetic: { count: 6, sampleRate: 6 },
      backend: 'wasm',
      ...extra,
    }),
  );
}
