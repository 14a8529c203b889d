import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerGradients } from './index.js';

describe('registerGradients', () => {
  it('registers the gradients of core kernels so tf.grad works', async () => {
    registerGradients();
    await tf.setBackend('cpu');
    for (const kernel of ['BatchMatMul', 'Softmax', 'Erf', 'Transpose', 'Sum', 'Relu']) expect(tf.getGradient(kernel)).toBeDefined();
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.matMul(x, x)))(tf.tensor2d([[1, 2], [3, 4]]));
    expect(Array.from(g.dataSync())).toEqual([7, 11, 9, 13]);
  });
});

describe('Sum and Mean gradients (broadcast, no ones tensor)', () => {
  beforeAll(() => registerGradients());

  it.each([
    ['sum over axis 1', (x: tf.Tensor) => tf.sum(x, 1), [[1, 1, 1], [1, 1, 1]]],
    ['sum over all', (x: tf.Tensor) => tf.sum(x), [[1, 1, 1], [1, 1, 1]]],
    ['mean over axis 0', (x: tf.Tensor) => tf.mean(x, 0), [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]],
    ['mean over axis -1, kept dims', (x: tf.Tensor) => tf.mean(x, -1, true), [[1 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3]]],
  ] as const)('%s', async (_, f, expected) => {
    await tf.setBackend('cpu');
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(f(t)))(x);
    expect(g.shape).toEqual([2, 3]);
    const got = g.arraySync() as number[][];
    got.flat().forEach((v, i) => expect(v).toBeCloseTo(expected.flat()[i]!, 7));
    // weighted upstream gradient: d/dx sum(w * sum(x, 1)) = w broadcast over columns
    const w = tf.tensor1d([2, -3]);
    const gw = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.sum(t, 1), w)))(x);
    expect(gw.arraySync()).toEqual([[2, 2, 2], [-3, -3, -3]]);
    tf.dispose([x, g, w, gw]);
  });
});
