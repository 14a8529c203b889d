import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { batchEffectiveRank } from '@r3d-ts/rank-metrics';
import type { FuserName } from './fuser.js';
import { createFuser } from './fusers/index.js';
import { type FuserTokens, tokenRanks } from './tokens.js';

const [B, T, C] = [2, 6, 16];
const lengths = [6, 4];
const authors = (t: tf.Tensor) => Array.from(batchEffectiveRank(t, { variant: 'authors', lengths }));

describe('tokenRanks', () => {
  it.each([
    ['rtf', 'exchanged'],
    ['sa-fuser', 'block'],
    ['mean', 'fused'],
  ] as Array<[FuserName, string]>)('%s: "after" is the %s tokens; every rank equals batchEffectiveRank on the right tensor', async (name, after) => {
    await selectBackend({ backend: 'cpu' });
    const fuser = createFuser(name, { channels: C, heads: 2, seed: 3, ...(name === 'rtf' ? { selection: 'variance', ratio: 0.25 } : {}) });
    const x = tf.randomNormal([B, T, C], 0, 1, 'float32', 1) as tf.Tensor3D;
    const y = tf.randomNormal([B, T, C], 0, 1, 'float32', 2) as tf.Tensor3D;
    const out = fuser.apply(x, y, { lengths });
    const tokens: FuserTokens = { x, y, fused: out.fused, ...(out.exchangedX ? { exchangedX: out.exchangedX, exchangedY: out.exchangedY } : {}), ...(out.block ? { block: out.block } : {}) };
    const before = tf.memory().numTensors;
    const r = tokenRanks(tokens, { lengths });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.after).toBe(after);
    expect(Array.from(r.xBefore)).toEqual(authors(x));
    expect(Array.from(r.yBefore)).toEqual(authors(y));
    expect(Array.from(r.fused)).toEqual(authors(out.fused));
    const [xAfter, yAfter] = tf.tidy(() => {
      if (out.exchangedX) return [out.exchangedX.clone(), out.exchangedY!.clone()];
      if (out.block) return tf.unstack(out.block, 2);
      return [out.fused.clone(), out.fused.clone()];
    });
    expect(Array.from(r.xAfter)).toEqual(authors(xAfter!));
    expect(Array.from(r.yAfter)).toEqual(authors(yAfter!));
    tf.dispose([x, y, xAfter!, yAfter!, ...Object.values(out).filter((v): v is tf.Tensor => v instanceof tf.Tensor)]);
    fuser.dispose();
  });
});
