import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { NATIVE_BLAS, nativeBlasStatus, registerNativeBlasBackend } from './index.js';
import { topKRows } from './topk-kernel.js';

const available = nativeBlasStatus().available || process.env.CI === 'true';

/** tf.topk's values and indices on `backend`, as exact bit patterns. */
async function topk(backend: string, make: () => tf.Tensor, k: number, sorted = true): Promise<{ shape: number[]; values: number[]; indices: number[] }> {
  await tf.setBackend(backend);
  const x = make();
  const { values, indices } = tf.topk(x, k, sorted);
  const bits = Array.from(new Uint32Array(Float32Array.from(values.dataSync() as Float32Array).buffer));
  const out = { shape: values.shape, values: x.dtype === 'int32' ? Array.from(values.dataSync()) : bits, indices: Array.from(indices.dataSync()) };
  tf.dispose([x, values, indices]);
  return out;
}

describe.skipIf(!available)('native-blas TopK', () => {
  beforeAll(() => registerNativeBlasBackend());

  it("gives the cpu kernel's values and indices bit for bit: ties (lower index first), -0 and 0, every k, int32", async () => {
    // few distinct values, so every row is full of ties; -0 next to 0
    const ties = (shape: number[], seed: number) => () =>
      tf.tidy(() => tf.mul(tf.sub(tf.floor(tf.randomUniform(shape, 0, 5, 'float32', seed)), 2), tf.scalar(-0.5)));
    const cases: [string, () => tf.Tensor, number][] = [
      ['8 x 128, k 12 (the RTF fuser)', () => tf.randomUniform([8, 128], -1, 1, 'float32', 1), 12],
      ['ties, 8 x 128, k 12', ties([8, 128], 2), 12],
      ['ties, 3 x 4 x 9, k 9 (all)', ties([3, 4, 9], 3), 9],
      ['ties, 1-D 17, k 1', ties([17], 4), 1],
      ['-0 and 0', () => tf.tensor2d([[0, -0, 1, -0, 0, -1], [-0, -0, 0, 0, 0, 0]]), 4],
      ['int32 ties', () => tf.tidy(() => tf.cast(tf.floor(tf.randomUniform([5, 40], 0, 6, 'float32', 5)), 'int32')), 7],
    ];
    for (const [name, make, k] of cases) {
      const expected = await topk('cpu', make, k);
      const actual = await topk(NATIVE_BLAS, make, k);
      expect(actual, name).toEqual(expected);
    }
  });

  it('leaves NaN rows and unsorted top-k to the cpu kernel', async () => {
    const withNaN = () => tf.tensor2d([[1, NaN, 3, 2], [4, 0, NaN, NaN]]);
    expect(topKRows(new Float32Array([1, NaN, 3, 2]), 1, 4, 2, new Float32Array(2), new Int32Array(2))).toBe(false);
    expect(await topk(NATIVE_BLAS, withNaN, 2)).toEqual(await topk('cpu', withNaN, 2));
    const unsorted = () => tf.randomUniform([4, 50], -1, 1, 'float32', 6);
    expect(await topk(NATIVE_BLAS, unsorted, 5, false)).toEqual(await topk('cpu', unsorted, 5, false));
  });
});
