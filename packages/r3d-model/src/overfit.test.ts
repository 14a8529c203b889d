import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@r3d-ts/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { depthEncoder, rgbEncoder } from './config.js';
import { r3dLoss } from './losses.js';
import { createR3DModel, type R3DModel } from './r3d.js';

// Four fixed samples of a tiny R3D (C 32, 12 frames, depth 6x8) on wasm: the full model (rtf
// fuser with BatchNorm in training mode, decoder, three heads, released loss) must fit them.
describe('overfit: four fixed samples on wasm', () => {
  let model: R3DModel;
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    model = createR3DModel({
      numClasses: 6, hidden: 32, heads: 4, ffnDim: 64, numQueries: 4, maxPositions: 16, dropout: 0, seed: 3,
      rgb: rgbEncoder(16), partner: depthEncoder(6, 8),
      fuser: { name: 'rtf', options: { ratio: 0.25, dropout: 0 } },
    });
  });
  afterAll(() => model?.dispose());

  it('drives the training loss of 4 samples near zero in a few hundred Adam steps', () => {
    const B = 4;
    const T = 12;
    const pad = model.config.padIndex; // 7
    const rgb = tf.randomUniform([B, T, 16], 0, 1, 'float32', 11);
    const depth = tf.randomUniform([B, T, 6, 8], 0, 1, 'float32', 12);
    const lengths = [12, 10, 12, 8];
    const labels = [
      [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2],
      [3, 3, 3, 3, 4, 4, 4, 4, 4, 4, pad, pad],
      [1, 1, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0],
      [4, 4, 4, 4, 3, 3, 3, 3, pad, pad, pad, pad],
    ].flat();
    const action = [[2, 3, 5, pad], [4, 0, 1, 5], [0, 5, pad, pad], [1, 2, 5, pad]].flat();
    const duration = [[0.25, 0.75, pad, pad], [0.5, 0.2, 0.3, pad], [1, pad, pad, pad], [0.6, 0.4, pad, pad]].flat();
    const targets = { labels, action, duration };
    const optimizer = tf.train.adam(3e-3);
    const vars = model.trainableVariables();
    const step = (): number => {
      const cost = optimizer.minimize(() => r3dLoss(model.apply({ rgb, partner: depth, lengths }, { training: true }), targets, { padIndex: pad }).total, true, vars)!;
      const v = cost.dataSync()[0]!;
      cost.dispose();
      return v;
    };
    const first = step();
    step();
    const tensors = tf.memory().numTensors;
    let last = first;
    const started = Date.now();
    for (let i = 0; i < 300 && last > 0.02; i++) last = step();
    const seconds = (Date.now() - started) / 1000;
    expect(tf.memory().numTensors).toBe(tensors); // no leak per step
    expect(first).toBeGreaterThan(2);
    expect(last).toBeLessThan(0.05);
    // the fit is real: with running statistics (padded frames masked as in training) the heads give the transcripts
    const out = model.apply({ rgb, partner: depth, lengths }, { training: false, keyPaddingMask: true });
    const predicted = (tf.tidy(() => tf.argMax(out.action, -1).arraySync()) as number[][]).map((row, b) => row.filter((_, q) => action[b * 4 + q] !== pad));
    tf.dispose(out);
    console.log(`overfit: loss ${first.toFixed(3)} -> ${last.toFixed(4)} in ${seconds.toFixed(1)} s`);
    expect(predicted.flat()).toEqual(action.filter((a) => a !== pad));
    optimizer.dispose();
    tf.dispose([rgb, depth]);
  });
});
