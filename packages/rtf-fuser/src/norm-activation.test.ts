import * as tf from '@tensorflow/tfjs-core';
import { R3DGelu, R3DGeluGrad, R3DLayerNorm, R3DLayerNormGrad } from '@r3d-ts/kernel-names';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { worstRelative } from '@r3d-ts/tooling/vitest/compare';
import { gelu, layerNorm, layerNormGrad } from './norm-activation.js';

interface Result {
  values: Float32Array[];
  grads: Float32Array[];
}

// Values and gradients (of a weighted sum, so every output element matters) of LayerNorm and
// GELU with fixed inputs; on native-blas and wasm these run the fused kernels and their
// closed-form backward passes, on cpu the composed ops and tf's autodiff.
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
  it('agree with the cpu backend on every backend, values and gradients (fused kernels on native-blas and wasm)', async () => {
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

// @r3d-ts/backend's wasm kernels promise the bits of the composed ops above on wasm, and test it
// against its own copy of them (it cannot import this package: this package tests on it). Here the
// same promise against the ops themselves, so a change to them cannot leave the kernels behind:
// each result with the kernel, then with it unregistered for a moment.
describe('the fused kernels on wasm', () => {
  it('give the bits of the composed ops: LayerNorm and GELU values, layerNormGrad, GELU\'s gradient', async () => {
    await selectBackend({ backend: 'wasm' });
    const names = [R3DLayerNorm, R3DLayerNormGrad, R3DGelu, R3DGeluGrad];
    expect(names.filter((name) => !tf.getKernel(name, 'wasm')), 'kernels @r3d-ts/backend registers for wasm').toEqual([]);
    const without = <T>(name: string, f: () => T): T => {
      const config = tf.getKernel(name, 'wasm')!;
      tf.unregisterKernel(name, 'wasm');
      try {
        return f();
      } finally {
        tf.registerKernel(config);
      }
    };
    const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
    const x = tf.add(tf.mul(tf.randomUniform([6, 5, 40], -1, 1, 'float32', 5), 3), 1);
    const gamma = tf.randomUniform([40], 0.5, 1.5, 'float32', 6);
    const beta = tf.randomUniform([40], -0.5, 0.5, 'float32', 7);
    const dy = tf.randomUniform([6, 5, 40], -1, 1, 'float32', 8);
    const cases: Array<[string, string, () => tf.Tensor[]]> = [
      ['layerNorm', R3DLayerNorm, () => [layerNorm(x, gamma, beta)]],
      ['layerNormGrad', R3DLayerNormGrad, () => layerNormGrad(dy, x, gamma)],
      ['gelu', R3DGelu, () => [gelu(x)]],
      // R3DGelu stays: without it gelu's gradient would be tf's autodiff, not the closed form
      ['gelu gradient', R3DGeluGrad, () => [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gelu(a), dy)))(x)]],
    ];
    for (const [what, name, f] of cases) {
      const fused = f();
      const composed = without(name, f);
      fused.forEach((t, i) => expect(bits(t), `${what} ${i}`).toEqual(bits(composed[i]!)));
      tf.dispose([...fused, ...composed]);
    }
    tf.dispose([x, gamma, beta, dy]);
  });
});
