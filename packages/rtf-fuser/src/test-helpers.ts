// Shared by the test files only (not exported from the package).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readNpy } from '@r3d-ts/datasets';
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
