import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { FuserError } from './errors.js';
import {
  exchangedChannelCount, frameMask, frameValidity, lowestChannelIndices, lowestChannels, sampleChannelScores, scoreChannels, selectChannels,
  type SelectChannelsOptions,
} from './selection.js';

/** The chosen channels as plain arrays, the tensors disposed. */
function chosen(x: tf.Tensor, options: SelectChannelsOptions): number[][] {
  const { indices, mask } = selectChannels(x, options);
  const out = indices.arraySync();
  tf.dispose([indices, mask]);
  return out;
}

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

describe.each(testBackends())('selectChannels on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
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

  it('variance picks the k least varying channels per sample; the mask marks them', () => {
    const x = tokens();
    const { indices, mask } = selectChannels(x, { selection: 'variance', ratio: 0.25 });
    expect(indices.dtype).toBe('int32');
    expect(indices.arraySync()).toEqual([[0, 1], [7, 6]]);
    expect(mask.arraySync()).toEqual([[[1, 1, 0, 0, 0, 0, 0, 0]], [[0, 0, 0, 0, 0, 0, 1, 1]]]);
    tf.dispose([x, indices, mask]);
  });

  it('ignores padded frames: whatever sits in them, the choice is the same', () => {
    const x = tokens();
    const noisy = tf.tidy(() => {
      const pad = tf.concat([tf.zeros([2, 4, 8]), tf.mul(tf.randomNormal([2, 2, 8], 0, 1, 'float32', 5), 100)], 1);
      const keep = tf.concat([tf.ones([2, 4, 8]), tf.zeros([2, 2, 8])], 1);
      return tf.add(tf.mul(x, keep), pad) as tf.Tensor3D;
    });
    const maskTensor = tf.tensor2d([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 0, 0]]);
    for (const selection of ['variance', 'svd-energy'] as const) {
      const a = chosen(x, { selection, ratio: 0.5, lengths: [4, 4] });
      const b = chosen(noisy, { selection, ratio: 0.5, lengths: [4, 4] });
      const c = chosen(noisy, { selection, ratio: 0.5, mask: [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 0, 0]] });
      const d = chosen(noisy, { selection, ratio: 0.5, mask: maskTensor });
      expect(b).toEqual(a);
      expect(c).toEqual(a);
      expect(d).toEqual(a);
      const unmasked = chosen(noisy, { selection, ratio: 0.5 });
      expect(unmasked).not.toEqual(a);
    }
    tf.dispose([x, noisy, maskTensor]);
  });

  it('svd-energy with every singular vector orders channels as variance does; with q = 1 it can differ', () => {
    const x = tf.randomNormal([3, 10, 16], 0, 1, 'float32', 9) as tf.Tensor3D;
    const v = chosen(x, { selection: 'variance', ratio: 0.5 });
    const s = chosen(x, { selection: 'svd-energy', ratio: 0.5, topQ: 16 });
    expect(s).toEqual(v);
    const s1 = chosen(x, { selection: 'svd-energy', ratio: 0.5, topQ: 1 });
    expect(s1).not.toEqual(v);
    x.dispose();
  });

  it('bn-gamma uses |gamma|, the same for every sample, and needs gamma', () => {
    const x = tf.zeros([2, 3, 4]) as tf.Tensor3D;
    expect(chosen(x, { selection: 'bn-gamma', ratio: 0.5, gamma: [-0.1, 2, 0.05, -3] })).toEqual([[2, 0], [2, 0]]);
    const gamma = tf.tensor1d([-0.1, 2, 0.05, -3]);
    expect(chosen(x, { selection: 'bn-gamma', ratio: 0.5, gamma })).toEqual([[2, 0], [2, 0]]);
    expect(() => selectChannels(x, { selection: 'bn-gamma', ratio: 0.5 })).toThrow(/gamma/);
    tf.dispose([x, gamma]);
  });

  it('ties go to the lower channel index, NaN and Infinity last, as lowestChannels does', () => {
    const rows = [
      [0.5, 0.1, 0.1, 0.9],
      [2, 1, 1, 1],
      [Number.NaN, 3, 2, Number.POSITIVE_INFINITY],
      [0, 0, 0, 0],
      [Number.POSITIVE_INFINITY, Number.NaN, 1, Number.NaN],
    ];
    expect(tf.tidy(() => lowestChannelIndices(tf.tensor2d([rows[0]!]), 0).shape)).toEqual([1, 0]);
    for (const row of rows) {
      for (let k = 1; k <= row.length; k++) {
        const got = tf.tidy(() => lowestChannelIndices(tf.tensor2d([row]), k).arraySync()[0]);
        expect(got, `${JSON.stringify(row)} k=${k}`).toEqual(Array.from(lowestChannels(row, k)));
      }
    }
    // 128 channels in 3 tied groups, ratio 0.3: the 38 lowest are the first 38 of group 0.
    const many = Array.from({ length: 128 }, (_, c) => c % 3);
    const got = tf.tidy(() => lowestChannelIndices(tf.tensor2d([many]), 38).arraySync()[0]);
    expect(got).toEqual(Array.from(lowestChannels(many, 38)));
  });

  it('ties in the tokens themselves: equal variances and equal |gamma| go to the lower index', () => {
    // Channels 1, 3 and 5 carry the same values (tied variance, the lowest), channel 6 the same
    // values scaled by -1 (the same variance again).
    const T = 5;
    const C = 8;
    const v = new Float32Array(T * C);
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < C; c++) v[t * C + c] = (c + 2) * Math.cos(0.7 * t + c);
      for (const c of [1, 3, 5]) v[t * C + c] = 0.5 * Math.sin(t);
      v[t * C + 6] = -0.5 * Math.sin(t);
    }
    const x = tf.tensor3d(v, [1, T, C]);
    expect(chosen(x, { selection: 'variance', ratio: 0.5 })).toEqual([[1, 3, 5, 6]]);
    expect(chosen(x, { selection: 'bn-gamma', ratio: 0.25, gamma: [1, -0.5, 2, 0.5, 3, 0.5, 4, 5] })).toEqual([[1, 3]]);
    x.dispose();
  });

  it('a channel constant over the valid frames scores exactly 0 (dead units tie and go by index, as in Float64)', () => {
    // 13 valid frames, then padding holding NaN and Infinity; channels 2, 5, 6 and 9 constant (values
    // whose float32 mean over 13 frames is not exact), the others varying.
    const [T, C, n] = [16, 12, 13];
    const v = new Float32Array(T * C);
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < C; c++) v[t * C + c] = t >= n ? (c % 2 ? Number.NaN : Number.POSITIVE_INFINITY) : [2, 5, 6, 9].includes(c) ? 0.7123 + c / 7 : Math.sin(t * (c + 1));
    }
    const x = tf.tensor3d(v, [1, T, C]);
    const scores = tf.tidy(() => scoreChannels(x, { selection: 'variance', lengths: [n] }).arraySync()[0]!);
    expect([2, 5, 6, 9].map((c) => scores[c])).toEqual([0, 0, 0, 0]);
    const ref = sampleChannelScores(v, [1, T, C], 'variance', frameValidity(1, T, { lengths: [n] }))[0]!;
    expect(chosen(x, { selection: 'variance', ratio: 0.5, lengths: [n] })).toEqual([Array.from(lowestChannels(ref, 6))]);
    const energy = tf.tidy(() => scoreChannels(x, { selection: 'svd-energy', lengths: [n], topQ: 3 }).arraySync()[0]!);
    expect([2, 5, 6, 9].map((c) => energy[c])).toEqual([0, 0, 0, 0]);
    x.dispose();
  });

  it('is gradient-free: a gradient tape through the selection sees one zero-gradient node', () => {
    const x = tokens();
    const g = tf.grad((t: tf.Tensor) => {
      const { indices, mask } = selectChannels(t, { selection: 'svd-energy', ratio: 0.25, topQ: 2 });
      indices.dispose();
      return tf.sum(tf.mul(mask, t));
    })(x);
    // d/dx sum(mask * x) with the mask held fixed: the mask itself, broadcast over the frames
    const { indices, mask } = selectChannels(x, { selection: 'svd-energy', ratio: 0.25, topQ: 2 });
    expect(g.arraySync()).toEqual(tf.tidy(() => tf.broadcastTo(mask, x.shape).arraySync()));
    tf.dispose([x, g, indices, mask]);
  });
});

describe.each(testBackends())('scoreChannels on %s: tensor scores against the Float64 reference', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });

  // Low-rank tokens with well separated singular values, plus noise, and a padded second sample.
  const structured = (B: number, T: number, C: number, seed: number): tf.Tensor3D =>
    tf.tidy(() => {
      const u = tf.randomNormal([B, T, 6], 0, 1, 'float32', seed);
      const w = tf.mul(tf.randomNormal([1, 6, C], 0, 1, 'float32', seed + 1), tf.reshape(tf.tensor1d([8, 6, 4.5, 3, 2, 1.2]), [1, 6, 1]));
      return tf.add(tf.matMul(u, tf.broadcastTo(w, [B, 6, C])), tf.randomNormal([B, T, C], 0, 0.05, 'float32', seed + 2)) as tf.Tensor3D;
    });

  it.each([
    ['tokens side (T <= C)', 3, 20, 32],
    ['channels side (T > C)', 2, 40, 16],
  ])('%s: variance to 1e-5 and svd-energy to 1e-3 of the largest score; the same choice', (_side, B, T, C) => {
    const x = structured(B, T, C, 7);
    const lengths = Array.from({ length: B }, (_, b) => T - 3 * b);
    const data = x.dataSync();
    const valid = frameValidity(B, T, { lengths });
    for (const [selection, tol, topQ] of [['variance', 1e-5, 8], ['svd-energy', 1e-3, 4], ['svd-energy', 1e-3, 8]] as const) {
      const ref = sampleChannelScores(data, [B, T, C], selection, valid, topQ);
      const got = tf.tidy(() => scoreChannels(x, { selection, lengths, topQ }).arraySync());
      ref.forEach((r, b) => {
        const scale = Math.max(...r);
        const err = Math.max(...Array.from(r, (v, c) => Math.abs(v - got[b]![c]!)));
        expect(err / scale, `${selection} q=${topQ} sample ${b}`).toBeLessThanOrEqual(tol);
        const k = Math.floor(C / 4);
        expect(new Set(lowestChannels(got[b]!, k)), `${selection} sample ${b}`).toEqual(new Set(lowestChannels(r, k)));
      });
    }
    x.dispose();
  });

  it('svd-energy of a sample with at most q valid frames is its whole energy, as the exact SVD says', () => {
    const x = structured(2, 12, 16, 3);
    const lengths = [12, 5];
    const ref = sampleChannelScores(x.dataSync(), [2, 12, 16], 'svd-energy', frameValidity(2, 12, { lengths }), 8);
    const got = tf.tidy(() => scoreChannels(x, { selection: 'svd-energy', lengths, topQ: 8 }).arraySync());
    const scale = Math.max(...ref[1]!);
    ref[1]!.forEach((v, c) => expect(Math.abs(v - got[1]![c]!) / scale).toBeLessThanOrEqual(1e-6));
    x.dispose();
  });

  it('frameMask: lengths, arrays and a mask tensor give the same (B, T) mask', () => {
    const fromLengths = frameMask(2, 3, { lengths: [3, 1] });
    const fromTensor = tf.tidy(() => frameMask(2, 3, { mask: tf.tensor2d([[2, 1, -1], [1, 0, 0]], [2, 3], 'int32') }));
    expect(fromLengths.arraySync()).toEqual([[1, 1, 1], [1, 0, 0]]);
    expect(fromTensor.arraySync()).toEqual([[1, 1, 1], [1, 0, 0]]);
    expect(() => frameMask(2, 3, { mask: tf.zeros([2, 2]) })).toThrow(/mask: expected shape \[2, 3\]/);
    tf.dispose([fromLengths, fromTensor]);
  });
});
