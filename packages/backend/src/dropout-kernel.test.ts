import { R3DDropoutMultiplier } from '@r3d-ts/kernel-names';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { dropoutMultiplier, registerDropoutKernel } from './dropout-kernel.js';
import { selectBackend } from './select-backend.js';

const bits = (a: ArrayLike<number>): number[] => Array.from(new Uint32Array(Float32Array.from(a).buffer));

// tf.dropout's own multiplier: x = 1 leaves exactly floor(u + keep) / keep
function tfMultiplier(shape: number[], rate: number, seed: number): number[] {
  return tf.tidy(() => bits(tf.dropout(tf.ones(shape), rate, undefined, seed).dataSync()));
}

const seeds = [0, 1, 12_345, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];

describe('dropoutMultiplier', () => {
  it("draws tf.dropout's mask bit for bit (rates, sizes, seeds past 2^31 and 2^32)", async () => {
    await selectBackend({ backend: 'cpu' });
    for (const rate of [0.1, 0.5, 0.9, 1e-9]) {
      for (const seed of [...seeds, 2 ** 32 + 104_729]) {
        expect(bits(dropoutMultiplier(seed, 37, rate)), `rate ${rate}, seed ${seed}`).toEqual(tfMultiplier([37], rate, seed));
      }
    }
    const m = dropoutMultiplier(3, 10_000, 0.25);
    const kept = m.filter((v) => v !== 0).length / m.length;
    expect(kept).toBeGreaterThan(0.72);
    expect(kept).toBeLessThan(0.78);
  });
});

describe.each(testBackends())('R3DDropoutMultiplier on %s', (backend) => {
  it('is registered by selectBackend and gives the mask of (seed >>> 0) + offset, reading the seed as unsigned', async () => {
    await selectBackend({ backend });
    expect(tf.getKernel(R3DDropoutMultiplier, backend)).toBeDefined();
    const before = tf.memory().numTensors;
    for (const seed of seeds) {
      for (const offset of [0, 104_729]) {
        const base = tf.scalar(seed | 0, 'int32');
        const m = tf.engine().runKernel(R3DDropoutMultiplier, { seed: base }, { shape: [3, 5, 17], rate: 0.1, offset } as unknown as tf.NamedAttrMap) as tf.Tensor;
        expect(m.shape).toEqual([3, 5, 17]);
        expect(m.dtype).toBe('float32');
        expect(bits(m.dataSync()), `seed ${seed} + ${offset}`).toEqual(tfMultiplier([3, 5, 17], 0.1, seed + offset));
        tf.dispose([base, m]);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names what a bad seed should have been', async () => {
    await selectBackend({ backend });
    const seed = tf.scalar(1.5);
    expect(() => tf.engine().runKernel(R3DDropoutMultiplier, { seed }, { shape: [2], rate: 0.1, offset: 0 } as unknown as tf.NamedAttrMap)).toThrow(/int32 scalar.*float32/);
    seed.dispose();
  });
});

describe('registerDropoutKernel', () => {
  it('declines backends whose tensors it cannot write (the model then reads the seed back)', () => {
    expect(registerDropoutKernel('webgl')).toBe(false);
    expect(tf.getKernel(R3DDropoutMultiplier, 'webgl')).toBeUndefined();
  });
});
