import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type HostTensor, SafetensorsFormatError, TorchFormatError } from '@r3d-ts/tensor-io';
import { writeFileAtomic, writeNpy, writeTorchSave } from '@r3d-ts/tensor-io/node';
import { selectBackend } from '@r3d-ts/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { depthEncoder, rgbEncoder } from '../config.js';
import { WeightImportError } from '../errors.js';
import { createR3DModel, type R3DModel } from '../r3d.js';
import { loadR3DModel, loadWeights, readWeights, saveR3DModel } from './checkpoint.js';

const small = (seed: number) =>
  createR3DModel({
    numClasses: 5, hidden: 16, heads: 2, ffnDim: 32, maxPositions: 40, numQueries: 4, seed,
    rgb: rgbEncoder(8), partner: depthEncoder(3, 4), fuser: { name: 'rtf', options: { ratio: 0.25, seed } },
  });

function hostWeights(model: R3DModel): Map<string, HostTensor> {
  const w = model.getWeights();
  const out = new Map([...w].map(([k, t]) => [k, { shape: [...t.shape], data: Float32Array.from(t.dataSync()) }]));
  tf.dispose([...w.values()]);
  return out;
}

function expectSameWeights(a: R3DModel, b: R3DModel): void {
  const wa = hostWeights(a);
  const wb = hostWeights(b);
  expect([...wb.keys()].sort()).toEqual([...wa.keys()].sort());
  for (const [name, t] of wa) {
    expect(wb.get(name)!.shape, name).toEqual(t.shape);
    expect(Array.from(wb.get(name)!.data), name).toEqual(Array.from(t.data));
  }
}

describe('weight import and export', () => {
  let a: R3DModel;
  let b: R3DModel;
  let tmp: string;
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
    a = small(1);
    b = small(2);
    tmp = mkdtempSync(join(tmpdir(), 'r3d-weights-'));
  });
  afterAll(() => {
    a?.dispose();
    b?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('loads a .pt state dict and a .npy folder into the model: module. prefixes stripped, a BatchNorm counter reported unused', () => {
    const weights = hostWeights(a);
    const pt = new Map([...weights].map(([name, w]) => [`module.${name}`, w]));
    pt.set('module.fuser.bn_rgb.num_batches_tracked', { shape: [], data: Float64Array.from([7]) });
    const path = join(tmp, 'state-dict.pth');
    writeTorchSave(path, pt);
    const report = loadWeights(b, path);
    expect(report.unused).toEqual(['fuser.bn_rgb.num_batches_tracked']);
    expect(report.loaded).toHaveLength(weights.size);
    expectSameWeights(a, b);

    const folder = join(tmp, 'npy-folder');
    for (const [name, w] of weights) writeNpy(join(folder, `${name}.npy`), { shape: w.shape, data: w.data as Float32Array });
    const fresh = small(3);
    expect(loadWeights(fresh, folder).loaded).toHaveLength(weights.size);
    expectSameWeights(a, fresh);
    fresh.dispose();
  });

  it('a file that breaks its format is a WeightImportError naming it, with the format error as its cause', () => {
    const legacy = join(tmp, 'legacy.pt');
    writeFileSync(legacy, Uint8Array.from([0x80, 0x02, 0x8a, 0x0a]));
    let err: unknown;
    try { loadWeights(b, legacy); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(WeightImportError);
    expect((err as Error).message).toMatch(/^\S*legacy\.pt: expected a zip-format PyTorch checkpoint .*legacy pre-1.6 format/);
    expect((err as Error).cause).toBeInstanceOf(TorchFormatError);
    expect(() => readWeights(join(tmp, 'no-such.pt'))).toThrow(WeightImportError);
  });

  it('a missing required weight is a WeightImportError listing it; a wrong shape names the weight', () => {
    const weights = hostWeights(a);
    weights.delete('fc_len.weight');
    weights.delete('fuser.alpha');
    let err: unknown;
    try { b.setWeights(weights, { source: 'partial.pt' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(WeightImportError);
    expect((err as WeightImportError).missing.sort()).toEqual(['fc_len.weight', 'fuser.alpha']);
    expect((err as Error).message).toContain('partial.pt');
    const bad = hostWeights(a);
    bad.set('fc.weight', { shape: [4, 16], data: new Float32Array(64) });
    expect(() => b.setWeights(bad, { source: 'bad.pt' })).toThrow(/fc\.weight of shape \[5, 16\].*found \[4, 16\]/);
  });

  it('saves safetensors + config.json atomically and loads them back to the same outputs', () => {
    const dir = join(tmp, 'export');
    saveR3DModel(a, dir);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'weights.safetensors']);
    const back = loadR3DModel(dir);
    expectSameWeights(a, back);
    const rgb = tf.randomUniform([2, 6, 8], 0, 1, 'float32', 5);
    const depth = tf.randomUniform([2, 6, 3, 4], 0, 1, 'float32', 6);
    const o1 = a.apply({ rgb, partner: depth });
    const o2 = back.apply({ rgb, partner: depth });
    expect(Array.from(o2.action.dataSync())).toEqual(Array.from(o1.action.dataSync()));
    tf.dispose([rgb, depth, o1, o2]);
    back.dispose();
    // truncated: the header promises more data than there is
    const bytes = readFileSync(join(dir, 'weights.safetensors'));
    const cutDir = join(tmp, 'cut');
    writeFileAtomic(join(cutDir, 'config.json'), readFileSync(join(dir, 'config.json')));
    writeFileAtomic(join(cutDir, 'weights.safetensors'), bytes.subarray(0, bytes.length - 10));
    let err: unknown;
    try { loadR3DModel(cutDir); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(WeightImportError);
    expect((err as Error).cause).toBeInstanceOf(SafetensorsFormatError);
    expect((err as Error).message).toMatch(/cut\/weights\.safetensors: expected the data of entry \S+ to end at byte \d+ .*truncated/);
    expect(() => readWeights(join(cutDir, 'weights.safetensors'))).toThrow(/cut\/weights\.safetensors: expected the data of entry \S+ to end at byte \d+ .*truncated/);
  });
});
