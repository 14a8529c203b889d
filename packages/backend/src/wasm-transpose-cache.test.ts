import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './select-backend.js';
import { wasmTransposeCache, type RefCountedBackend } from './wasm-transpose-cache.js';

const cache = () => wasmTransposeCache(tf.backend() as unknown as RefCountedBackend);

/** A variable holding the only reference to its values. */
function variable(shape: number[], seed: number): tf.Variable {
  const init = tf.randomUniform(shape, -1, 1, 'float32', seed);
  const v = tf.variable(init);
  init.dispose();
  return v;
}

describe('the wasm transpose cache', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });

  it('keeps a large variable transposed the same way twice, shares it from then on, and frees it with its source', () => {
    const w = variable([128, 1024], 3);
    const before = tf.memory();
    const kept = cache().size;
    const first = tf.transpose(w);
    const second = tf.transpose(w);
    expect(cache().size).toBe(kept + 1);
    const third = tf.transpose(w);
    expect(third.dataId).toBe(second.dataId); // the same data: tfjs-backend-wasm keeps its packing too
    expect(first.dataId).not.toBe(second.dataId);
    const fresh = tf.tidy(() => tf.transpose(tf.add(w, 0))); // a fresh source: computed, not kept
    const want = fresh.dataSync().slice();
    fresh.dispose();
    for (const t of [first, second, third]) expect(Array.from(t.dataSync())).toEqual(Array.from(want));
    // a product on the kept transpose has the bits of one on a fresh copy
    const x = tf.randomUniform([7, 128], -1, 1, 'float32', 4);
    const viaKept = tf.tidy(() => tf.matMul(x, tf.transpose(third)));
    const viaFresh = tf.tidy(() => tf.matMul(x, tf.add(w, 0)));
    expect(Array.from(viaKept.dataSync())).toEqual(Array.from(viaFresh.dataSync()));
    tf.dispose([first, second, third, x, viaKept, viaFresh]);
    expect(cache().size).toBe(kept + 1); // the source lives on
    w.dispose();
    expect(cache().size).toBe(kept);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors - 1);
    expect(after.numDataBuffers).toBe(before.numDataBuffers - 1);
    expect(after.numBytes).toBe(before.numBytes - 128 * 1024 * 4);
  });

  it('keeps nothing for a tensor that is not a variable (an input given again), however often it is transposed', () => {
    const kept = cache().size;
    const x = tf.randomUniform([800, 192], -1, 1, 'float32', 10);
    for (let i = 0; i < 3; i++) tf.transpose(x).dispose();
    expect(cache().size).toBe(kept);
    x.dispose();
  });

  it('keeps nothing for variables transposed once a value (a training step), or by another permutation, or small', () => {
    const kept = cache().size;
    const w = variable([128, 1024], 0);
    for (let step = 0; step < 3; step++) {
      tf.dispose([tf.transpose(w), tf.matMul(tf.ones([2, 1024]), w, false, true)]);
      w.assign(tf.tidy(() => tf.mul(w, 0.5)));
    }
    w.dispose();
    const x = variable([4, 64, 512], 9);
    tf.dispose([tf.transpose(x, [0, 2, 1]), tf.transpose(x, [1, 0, 2]), tf.transpose(x, [1, 0, 2])]);
    const small = variable([64, 64], 11);
    tf.dispose([tf.transpose(small), tf.transpose(small), tf.transpose(small)]);
    expect(cache().size).toBe(kept);
    tf.dispose([x, small]);
  });

  it('frees a kept transpose that outlives its source only once its last tensor goes', () => {
    const w = variable([256, 512], 5);
    const before = tf.memory();
    tf.transpose(w).dispose();
    const held = tf.transpose(w);
    const values = held.dataSync().slice();
    w.dispose();
    expect(Array.from(held.dataSync())).toEqual(Array.from(values));
    held.dispose();
    const after = tf.memory();
    expect(after.numDataBuffers).toBe(before.numDataBuffers - 1);
    expect(after.numTensors).toBe(before.numTensors - 1);
  });

  it('never hands out a stale transpose: a variable assigned new values is transposed anew', () => {
    const v = variable([128, 1024], 6);
    const x = tf.randomUniform([5, 1024], -1, 1, 'float32', 7);
    const forward = () => tf.tidy(() => tf.matMul(x, tf.transpose(v)));
    tf.dispose([forward(), forward()]); // kept from the second on
    const old = forward();
    v.assign(tf.randomUniform([128, 1024], -1, 1, 'float32', 8));
    const now = forward();
    const want = tf.tidy(() => tf.matMul(x, tf.transpose(tf.add(v, 0))));
    expect(Array.from(now.dataSync())).toEqual(Array.from(want.dataSync()));
    expect(Array.from(now.dataSync())).not.toEqual(Array.from(old.dataSync()));
    tf.dispose([old, now, want, x, v]);
  });
});
