import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@r3d-ts/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { R3D_ARTIFACT_FORMAT } from './artifacts.js';
import { depthEncoder, rgbEncoder } from './config.js';
import { decodeAnticipation } from './decode.js';
import { ModelConfigError, WeightImportError } from './errors.js';
import { load, modelFromArtifacts } from './load.js';
import { createR3DModel, type R3DModel } from './r3d.js';
import { expectSameOutputs } from './test-helpers.js';

const small = (seed: number) =>
  createR3DModel({
    numClasses: 5, hidden: 16, heads: 2, ffnDim: 32, maxPositions: 40, numQueries: 4, seed,
    rgb: rgbEncoder(8), partner: depthEncoder(3, 4), fuser: { name: 'rtf', options: { ratio: 0.25, seed, dropout: 0 } },
  });

/** A save handler that keeps what it is given. */
function inMemory(): { handler: tf.io.IOHandler; saved: () => tf.io.ModelArtifacts } {
  let artifacts: tf.io.ModelArtifacts | undefined;
  const handler = tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
  });
  return { handler, saved: () => artifacts! };
}

describe('save / load through tf.io handlers, predict', () => {
  let model: R3DModel;
  let rgb: tf.Tensor;
  let depth: tf.Tensor;
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
    model = small(3);
    rgb = tf.randomUniform([2, 6, 8], 0, 1, 'float32', 5);
    depth = tf.randomUniform([2, 6, 3, 4], 0, 1, 'float32', 6);
    // one training pass moves the BatchNorm running statistics away from their initial 0 / 1
    tf.dispose(model.apply({ rgb, partner: depth, lengths: [6, 4] }, { training: true }));
  });
  afterAll(() => {
    model?.dispose();
    tf.dispose([rgb, depth]);
  });

  it('saves standard ModelArtifacts: the config in userDefinedMetadata.r3d, every weight by name as float32, no topology', async () => {
    const { handler, saved } = inMemory();
    const result = await model.save(handler);
    const a = saved();
    expect(a.format).toBe(R3D_ARTIFACT_FORMAT);
    expect(a.modelTopology).toBeUndefined();
    expect(a.userDefinedMetadata).toEqual({ r3d: { version: 1, config: model.config } });
    expect(a.weightSpecs!.map((s) => s.name)).toEqual(model.weightNames());
    expect(new Set(a.weightSpecs!.map((s) => s.dtype))).toEqual(new Set(['float32']));
    const floats = a.weightSpecs!.reduce((n, s) => n + s.shape.reduce((x, y) => x * y, 1), 0);
    expect((a.weightData as ArrayBuffer).byteLength).toBe(4 * floats);
    expect(result.modelArtifactsInfo.weightDataBytes).toBe(4 * floats);
  });

  it('an in-memory round trip gives bit-identical weights, outputs and predictions', async () => {
    const { handler, saved } = inMemory();
    await model.save(handler);
    const back = await load(tf.io.fromMemory(saved()));
    expect(back.config).toEqual(model.config);
    const [wa, wb] = [model.getWeights(), back.getWeights()];
    for (const [name, t] of wa) expect(Array.from(wb.get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync()));
    tf.dispose([...wa.values(), ...wb.values()]);
    for (const options of [{}, { training: true, dropout: false }] as const) {
      const o1 = model.apply({ rgb, partner: depth, lengths: [6, 4] }, options);
      const o2 = back.apply({ rgb, partner: depth, lengths: [6, 4] }, options);
      expectSameOutputs(o1, o2);
      tf.dispose([o1, o2]);
    }
    const p1 = await model.predict({ rgb, partner: depth, lengths: [6, 4] }, { futureFrames: 12 });
    const p2 = await back.predict({ rgb, partner: depth, lengths: [6, 4] }, { futureFrames: 12 });
    expect(p2).toEqual(p1);
    back.dispose();
  });

  it('predict decodes as decodeAnticipation, reads back after the pass and frees every tensor', async () => {
    const before = tf.memory().numTensors;
    const items = await model.predict({ rgb, partner: depth }, { futureFrames: 10 });
    expect(tf.memory().numTensors).toBe(before);
    const out = model.apply({ rgb, partner: depth });
    expect(items).toEqual(decodeAnticipation(out.action, out.duration, { noneIndex: model.config.noneIndex, futureFrames: 10 }));
    tf.dispose(out);
    expect(items).toHaveLength(2);
    for (const item of items) {
      expect(item.actions.every((a) => Number.isInteger(a) && a !== model.config.noneIndex)).toBe(true);
      expect(item.durations).toHaveLength(item.actions.length);
      expect(item.frames).toHaveLength(10);
    }
    const [noWindow] = await model.predict({ rgb, partner: depth });
    expect(noWindow!.frames).toHaveLength(0);
    expect(noWindow!.actions).toEqual(items[0]!.actions);
    await expect(model.predict({ rgb, partner: depth }, { futureFrames: -1 })).rejects.toThrow(ModelConfigError);
  });

  it('artefacts without a configuration need the config option; truncated weights are a WeightImportError', async () => {
    const { handler, saved } = inMemory();
    await model.save(handler);
    const bare = { ...saved(), userDefinedMetadata: {} };
    await expect(load(tf.io.fromMemory(bare))).rejects.toThrow(/userDefinedMetadata\.r3d holds the R3D configuration/);
    const withConfig = modelFromArtifacts(bare, { config: model.config });
    withConfig.dispose();
    const cut = { ...saved(), weightData: (saved().weightData as ArrayBuffer).slice(0, 100) };
    await expect(load(tf.io.fromMemory(cut))).rejects.toThrow(WeightImportError);
    const future = { ...saved(), userDefinedMetadata: { r3d: { version: 2, config: model.config } } };
    await expect(load(tf.io.fromMemory(future))).rejects.toThrow(/version 1/);
  });

  it('a URL with no tf.io router is a ModelConfigError that says what to use', async () => {
    await expect(load('nowhere://my-r3d')).rejects.toThrow(ModelConfigError);
    await expect(model.save('file://./my-r3d')).rejects.toThrow(/fileSystem\(path\) from '@r3d-ts\/r3d-model\/node'/);
  });
});
