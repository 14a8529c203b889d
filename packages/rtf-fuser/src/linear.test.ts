import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { linear, matMul2d } from './linear.js';
import { maxAbsDiff } from './test-helpers.js';

describe.each(testBackends())('linear on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });

  it('matMul2d: value and both gradients equal tf.matMul\'s', () => {
    const a = tf.randomNormal([5, 7], 0, 1, 'float32', 1) as tf.Tensor2D;
    const b = tf.randomNormal([7, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
    const r = tf.randomNormal([5, 3], 0, 1, 'float32', 3);
    const loss = (mm: (p: tf.Tensor2D, q: tf.Tensor2D) => tf.Tensor) => (p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(mm(p as tf.Tensor2D, q as tf.Tensor2D), r));
    const ours = tf.grads(loss(matMul2d))([a, b]);
    const ref = tf.grads(loss((p, q) => tf.matMul(p, q)))([a, b]);
    const v1 = matMul2d(a, b);
    const v2 = tf.matMul(a, b);
    expect(maxAbsDiff(v1, v2)).toBeLessThan(1e-5);
    expect(maxAbsDiff(ours[0]!, ref[0]!)).toBeLessThan(1e-5);
    expect(maxAbsDiff(ours[1]!, ref[1]!)).toBeLessThan(1e-5);
    tf.dispose([a, b, r, v1, v2, ...ours, ...ref]);
  });

  it('linear keeps leading axes and adds the bias', () => {
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 4);
    const w = tf.randomNormal([4, 6], 0, 1, 'float32', 5) as tf.Tensor2D;
    const b = tf.randomNormal([6], 0, 1, 'float32', 6) as tf.Tensor1D;
    const y = linear(x, w, b);
    const ref = tf.tidy(() => tf.add(tf.reshape(tf.matMul(tf.reshape(x, [6, 4]), w), [2, 3, 6]), b));
    expect(y.shape).toEqual([2, 3, 6]);
    expect(maxAbsDiff(y, ref)).toBeLessThan(1e-5);
    tf.dispose([x, w, b, y, ref]);
  });
});
