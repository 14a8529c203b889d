// Shared by the test files only (not exported from the package).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readNpy } from '@r3d-ts/tensor-io/node';
import type { WeightData } from './weights.js';

export function npyTensor(dir: string, file: string): tf.Tensor {
  const a = readNpy(join(dir, file));
  return tf.tensor(Float32Array.from(a.data as Float32Array), [...a.shape], 'float32');
}

/** The fixture's `fuser.*` weights with the prefix dropped, as PyTorch stores them. */
export function fuserWeights(dir: string): Record<string, WeightData> {
  const out: Record<string, WeightData> = {};
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('fuser.') || !f.endsWith('.npy')) continue;
    const a = readNpy(join(dir, f));
    out[f.slice('fuser.'.length, -'.npy'.length)] = { shape: [...a.shape], data: a.data as Float32Array };
  }
  return out;
}

export function maxAbsDiff(a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>): number {
  const x = a instanceof tf.Tensor ? a.dataSync() : a;
  const y = b instanceof tf.Tensor ? b.dataSync() : b;
  if (x.length !== y.length) return Infinity;
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i]! - y[i]!);
    if (!(d <= m)) m = d; // NaN propagates as NaN > anything is false: keep it visible
  }
  return m;
}

export interface DaraiSequence {
  sequence: number;
  offset: number;
  frames: number;
}

/** The darai-demo manifest's sequences for one observation ratio (e.g. '0.3'). */
export function daraiSequences(dir: string, ratio: string): DaraiSequence[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { ratios: Record<string, DaraiSequence[]> };
  const seqs = manifest.ratios[ratio];
  if (!seqs) throw new Error(`darai-demo manifest has no ratio ${ratio}`);
  return seqs;
}

/** Stacked (sum T, C) rows -> a zero-padded (S, Tmax, C) batch and the S lengths. */
export function padSequences(rows: Float32Array, C: number, seqs: DaraiSequence[]): { batch: Float32Array; lengths: number[]; tMax: number } {
  const tMax = Math.max(...seqs.map((s) => s.frames));
  const batch = new Float32Array(seqs.length * tMax * C);
  seqs.forEach((s, i) => batch.set(rows.subarray(s.offset * C, (s.offset + s.frames) * C), i * tMax * C));
  return { batch, lengths: seqs.map((s) => s.frames), tMax };
}

export function readRows(dir: string, file: string): { data: Float32Array; cols: number } {
  const a = readNpy(join(dir, file));
  return { data: a.data as Float32Array, cols: a.shape[1]! };
}
