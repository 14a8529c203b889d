import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { linear } from './linear.js';
import { maxAbsDiff } from './test-helpers.js';

describe.each(testBackends())('linear on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });

  it('equals x @ W^T + b for W in PyTorch (out, in) layout, and its custom gradients equal the plain ones', () => {
    const x = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 1);
    const w = tf.randomNormal([4, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
    const b = tf.randomNormal([4], 0, 1, 'float32', 3) as tf.Tensor1D;
    const ref = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(tf.add(tf.matMul(tf.reshape(xx, [6, 5]), ww, false, true), bb)));
    const mine = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(linear(xx, ww as tf.Tensor2D, bb as tf.Tensor1D)));
    const y = linear(x, w, b);
    const yRef = tf.tidy(() => tf.reshape(tf.add(tf.matMul(tf.reshape(x, [6, 5]), w, false, true), b), [2, 3, 4]));
    expect(y.shape).toEqual([2, 3, 4]);
    expect(maxAbsDiff(y, yRef)).toBeLessThan(1e-5);
    const g1 = tf.grads(ref)([x, w, b]);
    const g2 = tf.grads(mine)([x, w, b]);
    g1.forEach((g, i) => expect(tf.max(tf.abs(tf.sub(g, g2[i]!))).dataSync()[0]).toBeLessThan(1e-4));
    tf.dispose([x, w, b, y, yRef, ...g1, ...g2]);
  });

  it('a wide input (the depth frames) gets the weight gradient dy^T @ x bit for bit', () => {
    // on wasm the product is taken as (x^T @ dy)^T for inputs of 2^20+ elements: same terms, same order
    const x = tf.randomUniform([64, 20000], 0, 1, 'float32', 7) as tf.Tensor2D;
    const w = tf.randomNormal([16, 20000], 0, 0.01, 'float32', 8) as tf.Tensor2D;
    const b = tf.randomNormal([16], 0, 1, 'float32', 9) as tf.Tensor1D;
    const r = tf.randomNormal([64, 16], 0, 1, 'float32', 10);
    const [gw, gb] = tf.grads((ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(x, ww as tf.Tensor2D, bb as tf.Tensor1D, { inputGrad: false }), r)))([w, b]);
    const plain = tf.matMul(tf.transpose(r), x); // dy = r
    expect(Array.from(gw!.dataSync())).toEqual(Array.from(plain.dataSync()));
    expect(maxAbsDiff(gb!, tf.sum(r, 0))).toBe(0);
    tf.dispose([x, w, b, r, gw!, gb!, plain]);
  });

  it('without a bias, and with inputGrad: false the weight gradient is unchanged', () => {
    const x = tf.randomNormal([6, 5], 0, 1, 'float32', 4) as tf.Tensor2D;
    const w = tf.randomNormal([3, 5], 0, 1, 'float32', 5) as tf.Tensor2D;
    const r = tf.randomNormal([6, 3], 0, 1, 'float32', 6);
    const y = linear(x, w);
    const yRef = tf.matMul(x, w, false, true);
    expect(maxAbsDiff(y, yRef)).toBeLessThan(1e-5);
    const [gw] = tf.grads((ww: tf.Tensor) => tf.sum(tf.mul(linear(x, ww as tf.Tensor2D, undefined, { inputGrad: false }), r)))([w]);
    const [gwRef] = tf.grads((ww: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, ww as tf.Tensor2D, false, true), r)))([w]);
    expect(maxAbsDiff(gw!, gwRef!)).toBeLessThan(1e-4);
    tf.dispose([x, w, r, y, yRef, gw!, gwRef!]);
  });
});
