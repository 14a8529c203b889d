import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { NATIVE_BLAS, nativeBlasStatus, registerNativeBlasBackend } from './index.js';

// Under CI the addon must have built (CI installs libopenblas-dev): run and fail with the reason.
const available = nativeBlasStatus().available || process.env.CI === 'true';

/** Runs `f` on cpu and on native-blas with the same inputs and compares to 1e-5 relative. */
async function agree(f: () => tf.Tensor | tf.Tensor[], tol = 1e-5): Promise<void> {
  await tf.setBackend('cpu');
  const expected = tf.tidy(() => [f()].flat().map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) })));
  await tf.setBackend(NATIVE_BLAS);
  const before = tf.memory().numTensors;
  const actual = tf.tidy(() => [f()].flat().map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) })));
  expect(tf.memory().numTensors).toBe(before);
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect(a.shape).toEqual(e.shape);
    const scale = Math.max(1, ...e.data.map(Math.abs));
    const worst = Math.max(0, ...a.data.map((v, j) => Math.abs(v - e.data[j]!) / scale));
    expect(worst).toBeLessThan(tol);
  });
}

// Inputs built with a fixed seed inside each closure, so both backends see the same numbers.
const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

describe.skipIf(!available)('native-blas kernels agree with cpu', () => {
  beforeAll(() => registerNativeBlasBackend());

  it.each([
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ])('matMul 2-D, transposeA=%s transposeB=%s', async (ta, tb) => {
    await agree(() => tf.matMul(rand(ta ? [37, 23] : [23, 37], 1), rand(tb ? [19, 37] : [37, 19], 2), ta, tb));
  });

  it.each([
    [false, false],
    [true, true],
    [false, true],
    [true, false],
  ])('batched matMul with broadcast batch dims, transposeA=%s transposeB=%s', async (ta, tb) => {
    await agree(() => [
      tf.matMul(rand(ta ? [3, 9, 7] : [3, 7, 9], 3), rand(tb ? [3, 5, 9] : [3, 9, 5], 4), ta, tb),
      tf.matMul(rand(ta ? [2, 3, 9, 7] : [2, 3, 7, 9], 5), rand(tb ? [5, 9] : [9, 5], 6), ta, tb),
      tf.matMul(rand(ta ? [9, 7] : [7, 9], 7), rand(tb ? [2, 1, 5, 9] : [2, 1, 9, 5], 8), ta, tb),
      tf.matMul(rand(ta ? [2, 1, 9, 7] : [2, 1, 7, 9], 9), rand(tb ? [3, 5, 9] : [3, 9, 5], 10), ta, tb),
    ]);
  });

  it('fused matMul with bias and relu (row bias, full bias, other activations)', async () => {
    await agree(() => [
      tf.fused.matMul({ a: rand([16, 12], 11), b: rand([12, 10], 12), bias: rand([10], 13), activation: 'relu' }),
      tf.fused.matMul({ a: rand([12, 16], 14), b: rand([10, 12], 15), transposeA: true, transposeB: true, bias: rand([16, 10], 16), activation: 'relu' }),
      tf.fused.matMul({ a: rand([2, 16, 12], 17), b: rand([12, 10], 18), bias: rand([1, 10], 19), activation: 'sigmoid' }),
      tf.fused.matMul({ a: rand([16, 12], 20), b: rand([12, 10], 21), activation: 'leakyrelu', leakyreluAlpha: 0.3 }),
      tf.fused.matMul({ a: rand([16, 12], 22), b: rand([12, 10], 23), bias: rand([16, 1], 24), activation: 'elu' }),
    ]);
  });

  it('broadcasting element-wise ops, transpose, softmax, sum and mean', async () => {
    await agree(() => {
      const x = rand([4, 5, 6], 30);
      const row = rand([6], 31);
      const col = rand([4, 5, 1], 32);
      const mid = rand([5, 1], 33);
      const pos = tf.add(rand([4, 5, 6], 34), 2);
      return [
        tf.add(x, row), tf.sub(col, x), tf.mul(x, mid), tf.div(x, pos), tf.squaredDifference(x, row),
        tf.maximum(x, col), tf.minimum(row, x), tf.mul(x, 3), tf.sub(2, x), tf.add(tf.scalar(1), tf.scalar(2)),
        tf.transpose(x, [2, 0, 1]), tf.transpose(x, [1, 0, 2]), tf.transpose(tf.reshape(x, [2, 2, 5, 6]), [0, 2, 1, 3]),
        tf.softmax(x), tf.softmax(tf.mul(x, 40)),
        tf.sum(x), tf.sum(x, 0), tf.sum(x, [0, 2]), tf.sum(x, 1, true), tf.sum(x, -1),
        tf.mean(x, [1, 2]), tf.mean(x, 0, true), tf.relu(tf.sub(x, 0.2)), tf.step(x, 0.1),
      ];
    });
  });

  it('int32 and empty tensors take the cpu kernels and still agree', async () => {
    await agree(() => [
      tf.matMul(tf.tensor2d([[1, 2], [3, 4]], undefined, 'int32'), tf.tensor2d([[5], [6]], undefined, 'int32')),
      tf.add(tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3, 4], 'int32')),
      tf.matMul(tf.zeros([0, 3]), tf.zeros([3, 4])),
      tf.matMul(tf.zeros([2, 0]), tf.zeros([0, 4])),
      tf.add(tf.zeros([0, 3]), tf.ones([3])),
    ]);
  });

  it('gradients through a small MLP match cpu', async () => {
    await agree(() => {
      const x = rand([8, 6], 40);
      const w1 = rand([6, 16], 41);
      const b1 = rand([16], 42);
      const w2 = rand([16, 3], 43);
      const loss = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => {
        const h = tf.fused.matMul({ a: x, b: p, bias: q, activation: 'relu' });
        const logits = tf.matMul(h, r);
        return tf.mean(tf.square(tf.sub(tf.softmax(logits), 0.25)));
      };
      return tf.grads(loss)([w1, b1, w2]);
    });
  });

  it('rejects operands with mismatched inner dimensions like cpu does', async () => {
    await tf.setBackend(NATIVE_BLAS);
    expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 2]))).toThrow(/inner shapes \(3\) and \(4\)/);
  });
});
