import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@r3d-ts/backend';
import { FUSER_LAYER_CLASSES, RTFuserLayer } from '@r3d-ts/rtf-fuser/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { depthEncoder, rgbEncoder, type FuserSpec, type R3DConfigInput } from './config.js';
import { load } from './load.js';
import { r3dLoss } from './losses.js';
import { buildR3DModel, createR3DModel, type R3DModel } from './r3d.js';
import { expectSameOutputs } from './test-helpers.js';

// R3D built from the fuser Layer (buildR3DModel, load) runs the Layer's functional fuser on the
// Layer's weights: the same math as createR3DModel's functional fuser, so the same configuration
// must give the same weights, outputs, gradients and training trajectory, bit for bit.

const tiny = (fuser: FuserSpec): R3DConfigInput => ({
  numClasses: 5, hidden: 16, heads: 2, ffnDim: 32, numQueries: 4, maxPositions: 20, seed: 7, rgb: rgbEncoder(8), partner: depthEncoder(3, 4), fuser,
});

const FUSERS: Array<[string, FuserSpec, string]> = [
  ['rtf (bn-gamma, as released)', { name: 'rtf', options: { ratio: 0.25 } }, 'r3d>RTFuser'],
  ['rtf (variance)', { name: 'rtf', options: { selection: 'variance', ratio: 0.25 } }, 'r3d>RTFuser'],
  ['rtf (svd-energy)', { name: 'rtf', options: { selection: 'svd-energy', ratio: 0.25, topQ: 2 } }, 'r3d>RTFuser'],
  ['hard-swap', { name: 'hard-swap', options: { selection: 'variance', ratio: 0.25 } }, 'r3d>HardSwapFuser'],
  ['sa-fuser', { name: 'sa-fuser' }, 'r3d>SAFuser'],
  ['concat', { name: 'concat' }, 'r3d>ConcatFuser'],
  ['mean', { name: 'mean' }, 'r3d>MeanFuser'],
  ['late', { name: 'late' }, 'r3d>LateFusion'],
];

function sameWeights(a: R3DModel, b: R3DModel): void {
  const [wa, wb] = [a.getWeights(), b.getWeights()];
  expect([...wb.keys()]).toEqual([...wa.keys()]);
  for (const [name, t] of wa) expect(Array.from(wb.get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync()));
  tf.dispose([...wa.values(), ...wb.values()]);
}

/** One seeded SGD step on the R3D loss (dropout on, as in training). */
function trainStep(model: R3DModel, inputs: { rgb: tf.Tensor; partner: tf.Tensor; lengths: number[] }, targets: Parameters<typeof r3dLoss>[1]): number {
  const optimizer = tf.train.sgd(0.05);
  const loss = optimizer.minimize(() => r3dLoss(model.apply(inputs, { training: true, seed: 11 }), targets, { padIndex: -1 }).total, true, model.trainableVariables());
  const value = loss!.dataSync()[0]!;
  loss!.dispose();
  optimizer.dispose();
  return value;
}

describe('R3D built from the fuser Layer equals R3D with the functional fuser', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });

  it.each(FUSERS)('%s: same weights, outputs, gradients and trained weights, bit for bit', async (_label, fuser, className) => {
    const functional = createR3DModel(tiny(fuser));
    const layered = await buildR3DModel(tiny(fuser));
    expect(functional.fuserLayer).toBeUndefined();
    expect(FUSER_LAYER_CLASSES.some((cls) => layered.fuserLayer instanceof cls)).toBe(true);
    expect((layered.fuserLayer!.constructor as unknown as { className: string }).className).toBe(className);
    expect(layered.fuser).toBe(layered.fuserLayer!.fuser);
    sameWeights(functional, layered);

    const rgb = tf.randomUniform([2, 7, 8], 0, 1, 'float32', 1);
    const depth = tf.randomUniform([2, 7, 3, 4], 0, 1, 'float32', 2);
    const inputs = { rgb, partner: depth, lengths: [7, 5] };
    const targets = {
      labels: tf.tensor2d([[0, 1, 1, 2, 2, 3, 3], [4, 4, 0, 0, 1, -1, -1]], [2, 7], 'int32'),
      action: tf.tensor2d([[1, 2, 3, 4], [0, 1, 4, 4]], [2, 4], 'int32'),
      duration: tf.tensor2d([[0.2, 0.3, 0.5, 0], [0.5, 0.5, 0, 0]]),
    };
    for (const options of [{}, { training: true, seed: 3 }, { training: true, dropout: false }] as const) {
      const [a, b] = [functional.apply(inputs, options), layered.apply(inputs, options)];
      expectSameOutputs(a, b);
      tf.dispose([a, b]);
    }
    expect(trainStep(layered, inputs, targets)).toBe(trainStep(functional, inputs, targets));
    sameWeights(functional, layered);
    // the Layer holds the trained weights: they are the model's fuser weights, not a copy
    const layerWeights = layered.fuserLayer!.getWeights();
    const trainable = layered.fuser.trainableVariables;
    for (const v of trainable) expect(layerWeights.some((w) => w.shape.join() === v.shape.join() && tf.tidy(() => tf.all(tf.equal(w, v)).dataSync()[0] === 1))).toBe(true);

    tf.dispose([rgb, depth, ...Object.values(targets)]);
    functional.dispose();
    layered.dispose();
  });

  it('load() returns a model whose fuser is the Layer; createR3DModel builds a Layer it is given', async () => {
    const model = createR3DModel(tiny({ name: 'rtf', options: { ratio: 0.25 } }), { fuser: new RTFuserLayer({ ratio: 0.25, seed: 7 }) });
    expect(model.fuserLayer).toBeInstanceOf(RTFuserLayer);
    sameWeights(model, createR3DModel(tiny({ name: 'rtf', options: { ratio: 0.25 } })));
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }));
    const back = await load(tf.io.fromMemory(saved!));
    expect(back.fuserLayer).toBeInstanceOf(RTFuserLayer);
    sameWeights(model, back);
    model.dispose();
    back.dispose();
  });
});
