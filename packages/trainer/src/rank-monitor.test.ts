import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@r3d-ts/backend';
import { samplesFromSequences } from '@r3d-ts/datasets';
import { SyntheticDataset } from '@r3d-ts/datasets/synthetic';
import { createR3DModel, depthEncoder, rgbEncoder } from '@r3d-ts/r3d-model';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainableModel } from './model.js';
import { r3dTrainable } from './r3d.js';
import { monitorEffectiveRank } from './rank-monitor.js';

describe('monitorEffectiveRank (wasm)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });

  it("stops at the fuser where the model offers fuserTokens, and measures what the full forward pass's tokens give", () => {
    const ds = new SyntheticDataset({ seed: 2, count: 12, height: 12, width: 16 });
    for (const fuser of ['rtf', 'sa-fuser', 'late'] as const) {
      const model = r3dTrainable(createR3DModel({
        numClasses: ds.noneClass + 1, padIndex: ds.padClass, ignoreIndices: [-1],
        rgb: rgbEncoder(256), partner: depthEncoder(12, 16), hidden: 16, heads: 2, ffnDim: 32, seed: 1, fuser: { name: fuser, options: { ratio: 0.25 } },
      }));
      const samples = samplesFromSequences(ds.split('train'), { labels: model.labels, modalities: ['rgb', 'depth'], observationRatios: [0.3, 0.7] });
      // the same model without the shortcut: the monitor runs forward(..., { returnTokens: true })
      const forwardOnly: TrainableModel = { ...model, fuserTokens: undefined };
      const before = tf.memory().numTensors;
      const short = monitorEffectiveRank(model, samples, model.labels, { batchSize: 4 });
      expect(tf.memory().numTensors, fuser).toBe(before);
      const full = monitorEffectiveRank(forwardOnly, samples, model.labels, { batchSize: 4 });
      expect(short.samples).toBe(samples.length);
      expect(Object.keys(short.ranks).sort()).toEqual(['after.depth', 'after.rgb', 'before.depth', 'before.rgb', 'fused']);
      expect(short, fuser).toEqual(full);
      model.model.dispose();
    }
  });
});
