import { R3DDropoutMultiplier } from '@r3d-ts/kernel-names';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
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
    // the integer recurrence against seedrandom's own generator, over long sequences
    for (const [seed, rate] of [[0, 0.1], [2 ** 32 - 1, 1 / 3], [987_654_321, 0.5]] as const) {
      const random = seedrandom.alea(String(seed));
      const keep = Math.fround(1 - rate);
      const want = Float32Array.from({ length: 300_000 }, () => Math.floor(Math.fround(Math.fround(random()) + keep)) / keep);
      expect(bits(dropoutMultiplier(seed, 300_000, rate)), `seed ${seed}`).toEqual(bits(want));
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

  it('draws long masks bit for bit at any rate (native-blas draws them in C)', async () => {
    await selectBackend({ backend });
    for (const [seed, rate] of [[2 ** 32 - 1, 0.1], [12_345, 1 / 3], [7, 0.9], [2 ** 31, 1e-9]] as const) {
      const base = tf.scalar(seed | 0, 'int32');
      const m = tf.engine().runKernel(R3DDropoutMultiplier, { seed: base }, { shape: [1000, 1001], rate, offset: 3 } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const got = new Uint32Array((m.dataSync() as Float32Array).slice().buffer);
      const want = new Uint32Array(dropoutMultiplier(seed + 3, 1000 * 1001, rate).buffer);
      let mismatches = 0;
      for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) mismatches++;
      expect(mismatches, `seed ${seed}, rate ${rate}`).toBe(0);
      tf.dispose([base, m]);
    }
  });

  it('writes every element of a recycled output array (native-blas hands back a disposed mask\'s array)', async () => {
    await selectBackend({ backend });
    const shape = [64, 100]; // past native-blas's 4096-element floor for recycling
    const arrays: unknown[] = [];
    for (const seed of [5, 6, 7]) {
      const base = tf.scalar(seed, 'int32');
      const m = tf.engine().runKernel(R3DDropoutMultiplier, { seed: base }, { shape, rate: 0.5, offset: 0 } as unknown as tf.NamedAttrMap) as tf.Tensor;
      // the array itself, read without dataSync (which would keep it from being recycled)
      const data = (tf.backend() as unknown as { data?: { get(id: object): { values?: unknown } } }).data;
      arrays.push(data?.get(m.dataId)?.values);
      const ref = tf.dropout(tf.ones(shape), 0.5, undefined, seed);
      // native kernels only (a cpu fallback such as NotEqual would keep m's array from recycling);
      // the previous mask's values are still in a recycled array: only a full overwrite gives 0
      const wrong = tf.sum(tf.abs(tf.sub(m, ref)));
      expect(wrong.dataSync()[0], `seed ${seed}`).toBe(0);
      tf.dispose([base, ref, wrong, m]); // m last: its array is the next one handed out
    }
    if ('pool' in tf.backend()) expect(arrays[2]).toBe(arrays[1]);
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
