import * as tf from '@tensorflow/tfjs-core';
import { R3DLayerNorm } from '@r3d-ts/kernel-names';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { worstRelative } from '@r3d-ts/tooling/vitest/compare';
import { gelu, layerNorm } from './norm-activation.js';

interface Result {
  values: Float32Array[];
  grads: Float32Array[];
}

// Values and gradients (of a weighted sum, so every output element matters) of LayerNorm and
// GELU with fixed inputs; on native-blas these run the fused kernels and their closed-form
// backward passes, on cpu and wasm the composed ops and tf's autodiff.
function run(): Result {
  return tf.tidy(() => {
    const x = tf.add(tf.mul(tf.randomUniform([6, 5, 40], -1, 1, 'float32', 1), 3), 1);
    const gamma = tf.randomUniform([40], 0.5, 1.5, 'float32', 2);
    const beta = tf.randomUniform([40], -0.5, 0.5, 'float32', 3);
    const weights = tf.randomUniform([6, 5, 40], -1, 1, 'float32', 4);
    const objective = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(gelu(tf.mul(layerNorm(a, g, b), 2)), weights));
    const grads = tf.grads(objective)([x, gamma, beta]);
    const values = [layerNorm(x, gamma, beta), gelu(tf.mul(x, 2))];
    return { values: values.map((v) => v.dataSync() as Float32Array), grads: grads.map((g) => g.dataSync() as Float32Array) };
  });
}

describe('layerNorm and gelu', () => {
  it('agree with the cpu backend on every backend, values and gradients (fused kernels on native-blas)', async () => {
    await selectBackend({ backend: 'cpu' });
    const reference = run();
    for (const backend of testBackends().filter((b) => b !== 'cpu')) {
      await selectBackend({ backend });
      const before = tf.memory().numTensors;
      const got = run();
      expect(tf.memory().numTensors, backend).toBe(before);
      if (backend === 'native-blas') expect(tf.getKernel(R3DLayerNorm, backend), 'fused kernel registered').toBeDefined();
      got.values.forEach((v, i) => expect(worstRelative(v, reference.values[i]!), `${backend} value ${i}`).toBeLessThan(1e-5));
      got.grads.forEach((g, i) => expect(worstRelative(g, reference.grads[i]!), `${backend} gradient ${i}`).toBeLessThan(1e-5));
    }
  });
});
