import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
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
