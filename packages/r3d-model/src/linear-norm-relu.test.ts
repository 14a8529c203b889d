import * as tf from '@tensorflow/tfjs-core';
import { R3DLinearNormRelu } from '@r3d-ts/kernel-names';
import { layerNorm, linear } from '@r3d-ts/rtf-fuser';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { worstRelative } from '@r3d-ts/tooling/vitest/compare';
import { describe, expect, it } from 'vitest';
import { linearNormRelu } from './linear-norm-relu.js';

interface Result {
  values: Float32Array[];
  grads: Float32Array[];
}

type Op = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, g: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor2D;

const composed: Op = (x, w, b, g, beta) => tf.relu(layerNorm(linear(x, w, b, { inputGrad: false }), g, beta)) as tf.Tensor2D;

// Values and the gradients of a weighted sum (every output element matters) with respect to the
// weight, bias, gamma and beta, for a small product and one large enough (10 MFLOP) to take
// native-blas's own GEMM kernels.
function run(op: Op): Result {
  const out: Result = { values: [], grads: [] };
  tf.tidy(() => {
    for (const [n, k, c, seed] of [[12, 40, 16, 1], [64, 2400, 32, 10]] as const) {
      const x = tf.randomUniform([n, k], -1, 1, 'float32', seed) as tf.Tensor2D;
      const w = tf.div(tf.randomUniform([c, k], -1, 1, 'float32', seed + 1), Math.sqrt(k)) as tf.Tensor2D;
      const b = tf.randomUniform([c], -0.5, 0.5, 'float32', seed + 2) as tf.Tensor1D;
      const gamma = tf.randomUniform([c], 0.5, 1.5, 'float32', seed + 3) as tf.Tensor1D;
      const beta = tf.randomUniform([c], -0.5, 0.5, 'float32', seed + 4) as tf.Tensor1D;
      const weights = tf.randomUniform([n, c], -1, 1, 'float32', seed + 5);
      const objective = (wv: tf.Tensor, bv: tf.Tensor, gv: tf.Tensor, betav: tf.Tensor) =>
        tf.sum(tf.mul(op(x, wv as tf.Tensor2D, bv as tf.Tensor1D, gv as tf.Tensor1D, betav as tf.Tensor1D), weights));
      const grads = tf.grads(objective)([w, b, gamma, beta]);
      out.values.push(op(x, w, b, gamma, beta).dataSync() as Float32Array);
      out.grads.push(...grads.map((g) => g.dataSync() as Float32Array));
    }
  });
  return out;
}

describe('linearNormRelu (the depth projection)', () => {
  it('agrees with the composed cpu path on every backend, values and gradients (the fused kernel on native-blas)', async () => {
    await selectBackend({ backend: 'cpu' });
    const reference = run(composed);
    for (const backend of testBackends()) {
      await selectBackend({ backend });
      const before = tf.memory().numTensors;
      const got = run(linearNormRelu);
      expect(tf.memory().numTensors, backend).toBe(before);
      if (backend === 'native-blas') expect(tf.getKernel(R3DLinearNormRelu, backend), 'fused kernel registered').toBeDefined();
      got.values.forEach((v, i) => expect(worstRelative(v, reference.values[i]!), `${backend} value ${i}`).toBeLessThan(1e-5));
      got.grads.forEach((g, i) => expect(worstRelative(g, reference.grads[i]!), `${backend} gradient ${i}`).toBeLessThan(1e-5));
    }
  });

  it.runIf(testBackends().includes('native-blas'))('on native-blas equals the composed ops there bit for bit (the ablation\'s numbers do not move)', async () => {
    await selectBackend({ backend: 'native-blas' });
    const fused = run(linearNormRelu);
    const plain = run(composed);
    fused.values.forEach((v, i) => expect(Array.from(v), `value ${i}`).toEqual(Array.from(plain.values[i]!)));
    fused.grads.forEach((g, i) => expect(Array.from(g), `gradient ${i}`).toEqual(Array.from(plain.grads[i]!)));
  });
});
