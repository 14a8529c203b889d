import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { FuserError } from './errors.js';
import { exchangedChannelCount, frameValidity, lowestChannels, selectChannels } from './selection.js';

describe('exchangedChannelCount', () => {
  it.each([
    [0.3, 128, 38],
    [0.1, 128, 12],
    [0, 128, 0],
    [1, 128, 128],
    [0.5, 7, 3],
  ])('floor(%d * %d) = %d', (ratio, c, k) => expect(exchangedChannelCount(ratio, c)).toBe(k));
  it('rejects a ratio outside [0, 1]', () => {
    expect(() => exchangedChannelCount(1.5, 128)).toThrow(FuserError);
    expect(() => exchangedChannelCount(Number.NaN, 128)).toThrow(/ratio/);
  });
});

describe('lowestChannels', () => {
  it('ascending score, ties to the lower channel index, NaN last', () => {
    expect(Array.from(lowestChannels([0.5, 0.1, 0.1, 0.9], 2))).toEqual([1, 2]);
    expect(Array.from(lowestChannels([2, 1, 1, 1], 3))).toEqual([1, 2, 3]);
    expect(Array.from(lowestChannels([Number.NaN, 3, 2], 3))).toEqual([2, 1, 0]);
  });
  it('rejects k out of range', () => expect(() => lowestChannels([1, 2], 3)).toThrow(/k: expected an integer in \[0, 2\]/));
});

describe('frameValidity', () => {
  it('from lengths, a nested mask, a flat mask; all valid by default', () => {
    expect(Array.from(frameValidity(2, 3, { lengths: [3, 1] }))).toEqual([1, 1, 1, 1, 0, 0]);
    expect(Array.from(frameValidity(2, 2, { mask: [[1, 0], [0, 1]] }))).toEqual([1, 0, 0, 1]);
    expect(Array.from(frameValidity(1, 3, { mask: [0, 2, 0] }))).toEqual([0, 1, 0]);
    expect(Array.from(frameValidity(1, 2))).toEqual([1, 1]);
  });
  it('names the bad option', () => {
    expect(() => frameValidity(2, 3, { lengths: [3] })).toThrow(/lengths: expected 2 lengths/);
    expect(() => frameValidity(2, 3, { lengths: [3, 4] })).toThrow(/lengths\[1\]/);
    expect(() => frameValidity(2, 3, { mask: [1, 1] })).toThrow(/mask/);
  });
});

describe('selectChannels', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });

  const tokens = (): tf.Tensor3D => {
    // Sample 0: channel c varies with amplitude c + 1, so variance grows with c; sample 1 reversed.
    const B = 2, T = 6, C = 8;
    const v = new Float32Array(B * T * C);
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < C; c++) {
        const wave = Math.sin(1.3 * t + c) ;
        v[(0 * T + t) * C + c] = (c + 1) * wave;
        v[(1 * T + t) * C + c] = (C - c) * wave;
      }
    }
    return tf.tensor3d(v, [B, T, C]);
  };

  it('variance picks the k least varying channels per sample', () => {
    const x = tokens();
    const sel = selectChannels(x, { selection: 'variance', ratio: 0.25 });
    expect(Array.from(sel[0]!)).toEqual([0, 1]);
    expect(Array.from(sel[1]!)).toEqual([7, 6]);
    x.dispose();
  });

  it('ignores padded frames: whatever sits in them, the choice is the same', () => {
    const x = tokens();
    const noisy = tf.tidy(() => {
      const pad = tf.concat([tf.zeros([2, 4, 8]), tf.mul(tf.randomNormal([2, 2, 8], 0, 1, 'float32', 5), 100)], 1);
      const keep = tf.concat([tf.ones([2, 4, 8]), tf.zeros([2, 2, 8])], 1);
      return tf.add(tf.mul(x, keep), pad) as tf.Tensor3D;
    });
    for (const selection of ['variance', 'svd-energy'] as const) {
      const a = selectChannels(x, { selection, ratio: 0.5, lengths: [4, 4] });
      const b = selectChannels(noisy, { selection, ratio: 0.5, lengths: [4, 4] });
      const c = selectChannels(noisy, { selection, ratio: 0.5, mask: [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 0, 0]] });
      expect(b.map((s) => Array.from(s))).toEqual(a.map((s) => Array.from(s)));
      expect(c.map((s) => Array.from(s))).toEqual(a.map((s) => Array.from(s)));
      const unmasked = selectChannels(noisy, { selection, ratio: 0.5 });
      expect(unmasked.map((s) => Array.from(s))).not.toEqual(a.map((s) => Array.from(s)));
    }
    tf.dispose([x, noisy]);
  });

  it('svd-energy with every singular vector orders channels as variance does; with q = 1 it can differ', () => {
    const x = tf.randomNormal([3, 10, 16], 0, 1, 'float32', 9) as tf.Tensor3D;
    const v = selectChannels(x, { selection: 'variance', ratio: 0.5 });
    const s = selectChannels(x, { selection: 'svd-energy', ratio: 0.5, topQ: 16 });
    expect(s.map((a) => Array.from(a))).toEqual(v.map((a) => Array.from(a)));
    const s1 = selectChannels(x, { selection: 'svd-energy', ratio: 0.5, topQ: 1 });
    expect(s1.map((a) => Array.from(a))).not.toEqual(v.map((a) => Array.from(a)));
    x.dispose();
  });

  it('bn-gamma uses |gamma|, the same for every sample, and needs gamma', () => {
    const x = tf.zeros([2, 3, 4]) as tf.Tensor3D;
    const sel = selectChannels(x, { selection: 'bn-gamma', ratio: 0.5, gamma: [-0.1, 2, 0.05, -3] });
    expect(sel.map((s) => Array.from(s))).toEqual([[2, 0], [2, 0]]);
    expect(() => selectChannels(x, { selection: 'bn-gamma', ratio: 0.5 })).toThrow(/gamma/);
    x.dispose();
  });
});
