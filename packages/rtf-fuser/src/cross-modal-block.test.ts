import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { mixTokens } from './cross-modal-block.js';

// The two-token swap against the composed softmax attention it replaces: the same numbers
// (a zero may differ in sign only, so -0 is read as 0), forward and backward, on every backend.
const unsigned = (t: tf.Tensor): number[] => Array.from(t.dataSync(), (x) => (x === 0 ? 0 : x));

describe.each(testBackends())('mixTokens on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });

  it('with two tokens equals the masked softmax attention, values and gradients', () => {
    const [N, L, C, heads] = [37, 2, 32, 4];
    const qkv = tf.randomNormal([N * L, 3 * C], 0, 3, 'float32', 7);
    const r = tf.randomNormal([N * L, C], 0, 1, 'float32', 8);
    const before = tf.memory().numTensors;
    const run = (composed: boolean) => {
      const value = tf.tidy(() => mixTokens(qkv, N, L, heads, { composed }));
      const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(mixTokens(x, N, L, heads, { composed }), r)))(qkv);
      return { value, grad };
    };
    const fast = run(false);
    const composed = run(true);
    expect(unsigned(fast.value)).toEqual(unsigned(composed.value));
    expect(unsigned(fast.grad)).toEqual(unsigned(composed.grad));
    // q and k get an exact zero gradient, v the other token's upstream gradient
    const g = fast.grad.arraySync() as number[][];
    expect(g.every((row) => row.slice(0, 2 * C).every((x) => x === 0))).toBe(true);
    const rows = r.arraySync() as number[][];
    expect(g[0]!.slice(2 * C)).toEqual(rows[1]);
    expect(g[1]!.slice(2 * C)).toEqual(rows[0]);
    tf.dispose([fast.value, fast.grad, composed.value, composed.grad]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([qkv, r]);
  });

  it('with three tokens runs the composed attention (each token mixes the other two)', () => {
    const [N, L, C, heads] = [3, 3, 8, 2];
    const qkv = tf.randomNormal([N * L, 3 * C], 0, 1, 'float32', 9);
    const out = tf.tidy(() => mixTokens(qkv, N, L, heads));
    const ref = tf.tidy(() => mixTokens(qkv, N, L, heads, { composed: true }));
    expect(out.shape).toEqual([N * L, C]);
    expect(Array.from(out.dataSync())).toEqual(Array.from(ref.dataSync()));
    tf.dispose([qkv, out, ref]);
  });
});
