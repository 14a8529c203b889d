import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { readsDuring as reads } from '@r3d-ts/tooling/vitest/readback';
import type { FuserName, FuserOutput } from './fuser.js';
import { createFuser } from './fusers/index.js';
import { fuserLayer } from './layers/index.js';
import { exchangeTokens } from './exchange.js';

// A fuser's forward pass reads no tensor back: it never waits for the device.
const readsDuring = (f: () => void): string[] => reads(tf.Tensor.prototype, f);

const [B, T, C] = [2, 6, 16];

const FUSERS: Array<[string, FuserName, Record<string, unknown>]> = [
  ['rtf variance', 'rtf', { selection: 'variance', ratio: 0.25 }],
  ['rtf svd-energy', 'rtf', { selection: 'svd-energy', ratio: 0.25, topQ: 2 }],
  ['rtf bn-gamma', 'rtf', { selection: 'bn-gamma', ratio: 0.25 }],
  ['sa-fuser', 'sa-fuser', {}],
  ['hard-swap', 'hard-swap', { selection: 'variance', ratio: 0.25 }],
  ['concat', 'concat', {}],
  ['mean', 'mean', {}],
  ['late', 'late', {}],
];

const disposeOutput = (out: FuserOutput): void => tf.dispose([...Object.values(out).filter((v): v is tf.Tensor => v instanceof tf.Tensor), ...(out.pair ?? [])]);

describe.each(testBackends())('no read-back in a forward pass on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });
  afterEach(() => vi.restoreAllMocks());

  it.each(FUSERS)('%s: apply (evaluation; training with lengths; training with a mask tensor), a gradient step and the Layer', (_label, name, options) => {
    const x = tf.randomNormal([B, T, C], 0, 1, 'float32', 1) as tf.Tensor3D;
    const y = tf.randomNormal([B, T, C], 0, 1, 'float32', 2) as tf.Tensor3D;
    const mask = tf.tensor2d([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]]);
    const fuser = createFuser(name, { channels: C, heads: 2, seed: 1, ...options });
    const layer = fuserLayer(name, { heads: 2, seed: 1, ...options });
    const reads = readsDuring(() => {
      disposeOutput(fuser.apply(x, y));
      disposeOutput(fuser.apply(x, y, { training: true, lengths: [T, T - 2], pair: name !== 'concat' }));
      disposeOutput(fuser.apply(x, y, { training: true, mask }));
      if (fuser.trainableVariables.length > 0) {
        const { value, grads } = tf.variableGrads(() => tf.sum(fuser.apply(x, y, { training: true, mask }).fused) as tf.Scalar, fuser.trainableVariables);
        tf.dispose([value, ...Object.values(grads)]);
      }
      tf.dispose(layer.apply([x, y, mask]) as tf.Tensor);
      tf.dispose(tf.tidy(() => layer.call([x, y], { training: true })));
    });
    expect(reads).toEqual([]);
    tf.dispose([x, y, mask]);
    fuser.dispose();
    layer.dispose();
  });

  it('exchangeTokens with every selection', () => {
    const x = tf.randomNormal([B, T, C], 0, 1, 'float32', 3) as tf.Tensor3D;
    const y = tf.randomNormal([B, T, C], 0, 1, 'float32', 4) as tf.Tensor3D;
    const alpha = tf.fill([C], 0.5) as tf.Tensor1D;
    const gamma = tf.randomNormal([C], 0, 1, 'float32', 5);
    const reads = readsDuring(() => {
      for (const selection of ['variance', 'svd-energy', 'bn-gamma'] as const) {
        tf.dispose(exchangeTokens(x, y, alpha, { selection, ratio: 0.3, lengths: [T, 3], gammaX: gamma, gammaY: gamma }));
      }
    });
    expect(reads).toEqual([]);
    tf.dispose([x, y, alpha, gamma]);
  });

  it('the spy sees a read-back when there is one', () => {
    const t = tf.ones([2]);
    expect(readsDuring(() => t.dataSync())).toEqual(['dataSync']);
    t.dispose();
  });
});
