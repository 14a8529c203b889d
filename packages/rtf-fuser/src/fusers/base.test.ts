import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { FuserError } from '../errors.js';
import { RankEnhancingTokenFuser } from '../rtf.js';
import { RegistryFuser, WeightlessFuser } from './base.js';
import { ConcatFuser } from './concat.js';
import { LateFusion } from './late.js';
import { MeanFuser } from './mean.js';
import { SaFuser } from './sa-fuser.js';

const C = 16;

describe.each(testBackends())('fuser base classes on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });

  it.each([
    ['rtf', () => new RankEnhancingTokenFuser({ channels: C, heads: 2, seed: 1 })],
    ['sa-fuser', () => new SaFuser({ channels: C, heads: 2, seed: 1 })],
    ['concat', () => new ConcatFuser({ channels: C, seed: 1 })],
  ])('%s delegates weights, variables and dispose to its registry', (_name, make) => {
    const before = tf.memory().numTensors;
    const a = make();
    const b = make();
    expect(a).toBeInstanceOf(RegistryFuser);
    const weights = a.getWeights();
    expect([...weights.keys()]).toEqual([...a.weightShapes().keys()]);
    for (const [name, t] of weights) expect(t.shape).toEqual(a.weightShapes().get(name));
    // every named trainable variable is one of the trainable ones, and both lists agree in size
    expect([...a.namedTrainableVariables.values()]).toEqual(a.trainableVariables);
    expect(a.trainableVariables.length).toBeGreaterThan(0);
    // loading a's weights into b makes b's weights equal to a's
    const shifted = new Map([...weights].map(([k, t]) => [k, tf.add(t, 0.5)]));
    b.setWeights(shifted);
    const back = b.getWeights();
    for (const [name, t] of shifted) expect(Array.from(back.get(name)!.dataSync())).toEqual(Array.from(t.dataSync()));
    expect(() => b.setWeights({ nope: { shape: [1], data: [0] } })).toThrow(FuserError);
    tf.dispose([...weights.values(), ...shifted.values(), ...back.values()]);
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    ['mean', () => new MeanFuser({ channels: C }), /no weights \(the mean fuser has none\)/],
    ['late', () => new LateFusion({ channels: C }), /no weights \(late fusion has none\)/],
  ])('%s has no weights and refuses any', (_name, make, message) => {
    const f = make();
    expect(f).toBeInstanceOf(WeightlessFuser);
    expect(f.channels).toBe(C);
    expect(f.getWeights().size).toBe(0);
    expect(f.weightShapes().size).toBe(0);
    expect(f.trainableVariables).toEqual([]);
    expect(f.namedTrainableVariables.size).toBe(0);
    f.setWeights({}); // nothing to load is fine
    f.setWeights(new Map());
    expect(() => f.setWeights({ w: { shape: [1], data: [1] } })).toThrow(FuserError);
    expect(() => f.setWeights(new Map([['w', { shape: [1], data: [1] }]]))).toThrow(message);
    f.dispose();
  });
});
