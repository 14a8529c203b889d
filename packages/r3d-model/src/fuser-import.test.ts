import * as tf from '@tensorflow/tfjs-core';
import { registerGradients } from '@r3d-ts/tfjs-gradients';
import { describe, expect, it } from 'vitest';
import { importFuserLayers } from './fuser.js';

describe('importFuserLayers', () => {
  it("keeps the registry's Sum and Mean gradients (registerGradients's) when tfjs-layers loads for the first time", async () => {
    registerGradients();
    const before = [tf.getGradient('Sum'), tf.getGradient('Mean')];
    const layers = await importFuserLayers();
    expect(typeof layers.fuserLayer).toBe('function');
    expect([tf.getGradient('Sum'), tf.getGradient('Mean')]).toEqual(before);
    expect(tf.getGradient('Sum')).toBe(before[0]);
    expect(await importFuserLayers()).toBe(layers);
  });
});
