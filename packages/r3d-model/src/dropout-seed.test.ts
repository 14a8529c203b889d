import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@r3d-ts/backend';
import { captureStep } from '@r3d-ts/step-capture';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { beforeAll, describe, expect, it } from 'vitest';
import { depthEncoder, rgbEncoder } from './config.js';
import { r3dLoss } from './losses.js';
import { createR3DModel } from './r3d.js';
import { expectSameOutputs } from './test-helpers.js';

const tiny = { numClasses: 5, hidden: 16, heads: 2, ffnDim: 32, numQueries: 4, maxPositions: 20, encoderLayers: 1, rgb: rgbEncoder(8), partner: depthEncoder(3, 4), seed: 3 };
const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer));

describe.each(testBackends())('dropout seeds on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });

  it('an int32 seed tensor draws the masks of the same number seed (fuser and decoder), bit for bit', () => {
    const model = createR3DModel(tiny);
    const rgb = tf.randomUniform([2, 7, 8], 0, 1, 'float32', 1);
    const depth = tf.randomUniform([2, 7, 3, 4], 0, 1, 'float32', 2);
    for (const seed of [11, 3_000_000_000]) {
      const base = tf.scalar(seed | 0, 'int32');
      const byNumber = model.apply({ rgb, partner: depth, lengths: [7, 5] }, { training: true, seed });
      const byTensor = model.apply({ rgb, partner: depth, lengths: [7, 5] }, { training: true, seed: base });
      const other = model.apply({ rgb, partner: depth, lengths: [7, 5] }, { training: true, seed: seed + 1 });
      expectSameOutputs(byNumber, byTensor);
      expect(bits(other.action)).not.toEqual(bits(byNumber.action)); // the masks do change with the seed
      tf.dispose([byNumber, byTensor, other, base] as unknown as tf.Tensor[]);
    }
    tf.dispose([rgb, depth]);
    model.dispose();
  });

  it('a captured training step with dropout replays from the third step, each step equal to the eager one bit for bit', () => {
    const eager = createR3DModel(tiny);
    const captured = createR3DModel(tiny);
    const rgb = tf.randomUniform([2, 7, 8], 0, 1, 'float32', 1);
    const depth = tf.randomUniform([2, 7, 3, 4], 0, 1, 'float32', 2);
    const targets = { labels: [0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 0, 0, 6, 6], action: [1, 2, 6, 6, 3, 6, 6, 6], duration: [0.5, 0.5, 6, 6, 1, 6, 6, 6] };
    const gradientsOf = (model: ReturnType<typeof createR3DModel>) => ([x, y, seed]: tf.Tensor[]): tf.Tensor[] => {
      const vars = model.trainableVariables();
      const { value, grads } = tf.variableGrads(() => r3dLoss(model.apply({ rgb: x!, partner: y! }, { training: true, seed: seed as tf.Scalar }), targets, { padIndex: model.config.padIndex }).total, vars);
      return [value, ...vars.map((v) => grads[v.name]!)];
    };
    const step = captureStep(gradientsOf(captured));
    const plain = gradientsOf(eager);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const seed = tf.scalar(100 + i, 'int32');
      const want = plain([rgb, depth, seed]);
      const got = step.run([rgb, depth, seed]);
      if (i >= 2) expect(step.status.mode, step.status.reason).toBe('replay');
      for (let k = 0; k < want.length; k++) expect(bits(got[k]!), `step ${i}, output ${k}`).toEqual(bits(want[k]!));
      // a plain SGD update keeps the two models on the same weights
      tf.tidy(() => {
        eager.trainableVariables().forEach((v, k) => v.assign(tf.sub(v, tf.mul(want[k + 1]!, 0.1))));
        captured.trainableVariables().forEach((v, k) => v.assign(tf.sub(v, tf.mul(got[k + 1]!, 0.1))));
      });
      tf.dispose([...want, ...got, seed]);
    }
    expect(tf.memory().numTensors).toBe(before);
    step.dispose();
    tf.dispose([rgb, depth]);
    eager.dispose();
    captured.dispose();
  });
});
