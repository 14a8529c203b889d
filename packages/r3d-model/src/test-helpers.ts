import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseNpy } from '@r3d-ts/tensor-io';
import type { Fuser } from '@r3d-ts/rtf-fuser';
import { expect } from 'vitest';
import { depthEncoder, rgbEncoder, type R3DConfigInput } from './config.js';
import type { R3DOutputs } from './r3d.js';

/** Loads one fixture array as a float32 tensor. */
export function fixtureTensor(dir: string, name: string): tf.Tensor {
  const arr = parseNpy(readFileSync(join(dir, `${name}.npy`)), name);
  return tf.tensor(Float32Array.from(arr.data as ArrayLike<number>), arr.shape, 'float32');
}

/** max |a - b| / max |b|: the error relative to the output's scale. */
export function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  const a = actual.dataSync();
  const e = expected.dataSync();
  if (a.length !== e.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - e[i]!));
    scale = Math.max(scale, Math.abs(e[i]!));
  }
  return diff / Math.max(scale, 1e-12);
}

/** A fuser that returns given tokens (to test the decoder side on the fixture's fused tokens). */
export function fixedFuser(fused: () => tf.Tensor3D, channels = 128): Fuser {
  return {
    name: 'mean',
    channels,
    apply: () => ({ fused: tf.clone(fused()) }),
    getWeights: () => new Map(),
    setWeights: () => undefined,
    trainableVariables: [],
    namedTrainableVariables: new Map(),
    dispose: () => undefined,
  };
}

/** The parity fixture's model configuration (manifest.json `config`): the released rtf fuser, dropout off. */
export function parityConfig(cfg: { n_class: number; input_dim: number; H: number; W: number; pad_idx: number; none_idx: number; ratio: number }): R3DConfigInput {
  return {
    numClasses: cfg.n_class,
    rgb: rgbEncoder(cfg.input_dim),
    partner: depthEncoder(cfg.H, cfg.W),
    padIndex: cfg.pad_idx,
    noneIndex: cfg.none_idx,
    fuser: { name: 'rtf', options: { selection: 'bn-gamma', ratio: cfg.ratio, dropout: 0 } },
  };
}

/** Every output of two forward passes, bit for bit (tokens aside, which `fused` covers). */
export function expectSameOutputs(a: R3DOutputs, b: R3DOutputs): void {
  for (const key of ['action', 'duration', 'segmentation', 'fused', 'decoder'] as const) {
    expect(Array.from(b[key].dataSync()), key).toEqual(Array.from(a[key].dataSync()));
  }
}
