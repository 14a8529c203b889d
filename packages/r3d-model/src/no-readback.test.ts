import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { readsDuring as reads } from '@r3d-ts/tooling/vitest/readback';
import { beforeAll, describe, expect, it } from 'vitest';
import { depthEncoder, rgbEncoder } from './config.js';
import { buildR3DModel, createR3DModel, type R3DModel } from './r3d.js';

// R3D's forward pass reads no tensor back: it never waits for the device.
const readsDuring = (f: () => void): string[] => reads(tf.Tensor.prototype, f);

const tiny = { numClasses: 5, hidden: 16, heads: 2, ffnDim: 32, numQueries: 4, maxPositions: 20, rgb: rgbEncoder(8), partner: depthEncoder(3, 4) };

describe.each(testBackends())('no read-back in R3D\'s forward pass on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });

  it.each([
    ['rtf (bn-gamma, as released)', { name: 'rtf', options: { ratio: 0.25 } }],
    ['rtf (variance)', { name: 'rtf', options: { selection: 'variance', ratio: 0.25 } }],
    ['rtf (svd-energy)', { name: 'rtf', options: { selection: 'svd-energy', ratio: 0.25, topQ: 2 } }],
    ['hard-swap', { name: 'hard-swap', options: { selection: 'variance', ratio: 0.25 } }],
    ['sa-fuser', { name: 'sa-fuser' }],
    ['late', { name: 'late' }],
  ])('%s: evaluation, training with lengths, training with a mask tensor, and a gradient step (functional fuser and fuser Layer)', async (_label, fuser) => {
    for (const model of [createR3DModel({ ...tiny, fuser, encoderLayers: 1 }), await buildR3DModel({ ...tiny, fuser, encoderLayers: 1 })]) expectNoReads(model);
  });
});

function expectNoReads(model: R3DModel): void {
  const rgb = tf.randomUniform([2, 7, 8], 0, 1, 'float32', 1);
  const depth = tf.randomUniform([2, 7, 3, 4], 0, 1, 'float32', 2);
  const mask = tf.tensor2d([[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0]]);
  const seed = tf.scalar(3, 'int32');
  const reads = readsDuring(() => {
    tf.dispose(model.apply({ rgb, partner: depth }));
    tf.dispose(model.apply({ rgb, partner: depth, lengths: [7, 5] }, { training: true, seed: 3 }));
    tf.dispose(model.apply({ rgb, partner: depth, mask }, { training: true, seed })); // a seed tensor: masks from the dropout kernel
    tf.dispose(model.apply({ rgb, partner: depth, mask }, { training: true }));
    const { value, grads } = tf.variableGrads(() => tf.sum(model.apply({ rgb, partner: depth, mask }, { training: true }).action) as tf.Scalar, model.trainableVariables());
    tf.dispose([value, ...Object.values(grads)]);
  });
  expect(reads).toEqual([]);
  tf.dispose([rgb, depth, mask, seed]);
  model.dispose();
}
