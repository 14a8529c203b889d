import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { sharedFixture } from '@r3d-ts/tooling/vitest/fixtures';
import { RankEnhancingTokenFuser } from './rtf.js';
import { fuserWeights, maxAbsDiff, npyTensor } from './test-helpers.js';

const dir = sharedFixture('r3d-parity');
const TOL = 1e-4;

describe.skipIf(!dir).each(testBackends())('r3d-parity: the authors\' fuser (bn-gamma, ratio 0.1) on %s', (backend) => {
  const d = dir!;
  let manifest: { selected: { rgb: number[]; depth: number[] }; config: { lengths: number[] } };
  let x: tf.Tensor3D;
  let y: tf.Tensor3D;
  const make = (): RankEnhancingTokenFuser => {
    const fuser = new RankEnhancingTokenFuser({ selection: 'bn-gamma', ratio: 0.1, batchNorm: true, dropout: 0 });
    fuser.setWeights(fuserWeights(d), { strict: true });
    return fuser;
  };

  beforeAll(async () => {
    await selectBackend({ backend });
    manifest = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
    x = npyTensor(d, 'out_embed_rgb.npy') as tf.Tensor3D;
    y = npyTensor(d, 'out_embed_depth.npy') as tf.Tensor3D;
  });
  afterAll(() => tf.dispose([x, y]));

  it('eval mode: BatchNorm, exchange, block and fused outputs match to 1e-4; selection matches', () => {
    const fuser = make();
    const out = fuser.apply(x, y, { training: false });
    const expectClose = (t: tf.Tensor | undefined, file: string): void => {
      const ref = npyTensor(d, file);
      expect(t, file).toBeDefined();
      expect(t!.shape, file).toEqual(ref.shape);
      expect(maxAbsDiff(t!, ref), file).toBeLessThanOrEqual(TOL);
      ref.dispose();
    };
    expectClose(out.normalisedX, 'out_bn_rgb.npy');
    expectClose(out.normalisedY, 'out_bn_depth.npy');
    expectClose(out.exchangedX, 'out_exchanged_rgb.npy');
    expectClose(out.exchangedY, 'out_exchanged_depth.npy');
    expectClose(out.block, 'out_block.npy');
    expectClose(out.fused, 'out_fused.npy');
    for (const sel of out.selectedX!.arraySync()) expect(sel).toEqual(manifest.selected.rgb);
    for (const sel of out.selectedY!.arraySync()) expect(sel).toEqual(manifest.selected.depth);
    tf.dispose([out.fused, out.exchangedX!, out.exchangedY!, out.normalisedX!, out.normalisedY!, out.block!, out.selectedX!, out.selectedY!]);
    fuser.dispose();
  });

  it('training BatchNorm (no dropout): outputs and updated running statistics match to 1e-4', () => {
    const fuser = make();
    const out = fuser.apply(x, y, { training: true, lengths: manifest.config.lengths });
    const pairs: Array<[tf.Tensor, string]> = [
      [out.normalisedX!, 'out_trainbn_bn_rgb.npy'],
      [out.normalisedY!, 'out_trainbn_bn_depth.npy'],
      [out.exchangedX!, 'out_trainbn_exchanged_rgb.npy'],
      [out.exchangedY!, 'out_trainbn_exchanged_depth.npy'],
      [out.fused, 'out_trainbn_fused.npy'],
    ];
    const weights = fuser.getWeights();
    pairs.push(
      [weights.get('bn_rgb.running_mean')!, 'out_trainbn_running_mean_rgb.npy'],
      [weights.get('bn_rgb.running_var')!, 'out_trainbn_running_var_rgb.npy'],
      [weights.get('bn_depth.running_mean')!, 'out_trainbn_running_mean_depth.npy'],
      [weights.get('bn_depth.running_var')!, 'out_trainbn_running_var_depth.npy'],
    );
    for (const [t, file] of pairs) {
      const ref = npyTensor(d, file);
      expect(t.size, file).toBe(ref.size);
      expect(maxAbsDiff(t, ref), file).toBeLessThanOrEqual(TOL);
      ref.dispose();
    }
    // The running statistics moved: a no-op update would not match the fixture above either way,
    // but say so plainly.
    const before = fuserWeights(d)['bn_rgb.running_mean']!;
    expect(maxAbsDiff(weights.get('bn_rgb.running_mean')!, before.data)).toBeGreaterThan(1e-3);
    tf.dispose([out.fused, out.exchangedX!, out.exchangedY!, out.normalisedX!, out.normalisedY!, out.block!]);
    tf.dispose([...weights.values()]);
    fuser.dispose();
  });

  it('round-trips the weights in PyTorch layout and rejects a wrong shape by name', () => {
    const fuser = make();
    const ref = fuserWeights(d);
    const got = fuser.getWeights();
    expect([...got.keys()].sort()).toEqual(Object.keys(ref).sort());
    for (const [name, w] of Object.entries(ref)) {
      expect(got.get(name)!.shape, name).toEqual(w.shape);
      expect(maxAbsDiff(got.get(name)!, w.data), name).toBe(0);
    }
    tf.dispose([...got.values()]);
    expect(() => fuser.setWeights({ 'blocks.0.attn.qkv.weight': { shape: [128, 384], data: new Float32Array(384 * 128) } })).toThrow(
      /blocks\.0\.attn\.qkv\.weight.*\[384, 128\].*\[128, 384\]/,
    );
    expect(() => fuser.setWeights({ 'blocks.0.attn.qkv.bias': { shape: [384], data: new Float32Array(384) } })).toThrow(/unknown/);
    fuser.dispose();
  });
});
