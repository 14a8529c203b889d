import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { FuserError } from './errors.js';
import type { Fuser, FuserName, FuserOutput } from './fuser.js';
import { createFuser, LateFusion, lateFusion } from './fusers/index.js';
import { RankEnhancingTokenFuser } from './rtf.js';
import { maxAbsDiff } from './test-helpers.js';

const B = 2;
const T = 6;
const C = 32;

function disposeOutput(out: FuserOutput): void {
  tf.dispose(Object.values(out).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
}

const inputs = (): [tf.Tensor3D, tf.Tensor3D] => [
  tf.randomNormal([B, T, C], 0, 1, 'float32', 21) as tf.Tensor3D,
  tf.randomNormal([B, T, C], 0, 1, 'float32', 22) as tf.Tensor3D,
];

const ALL: Array<[FuserName, Record<string, unknown>]> = [
  ['rtf', { selection: 'variance', ratio: 0.25 }],
  ['rtf', { selection: 'svd-energy', ratio: 0.25 }],
  ['rtf', { selection: 'bn-gamma', ratio: 0.25 }],
  ['sa-fuser', {}],
  ['hard-swap', { selection: 'variance', ratio: 0.25 }],
  ['concat', {}],
  ['mean', {}],
  ['late', {}],
];

describe.each(testBackends())('fusers on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });

  it.each(ALL)('%s %j: shapes, weight names, no leak over forward+backward calls', (name, options) => {
    const fuser = createFuser(name, { channels: C, heads: 4, seed: 5, ...options });
    expect(fuser.name).toBe(name);
    const [x, y] = inputs();
    const step = (): void => {
      const vars = fuser.trainableVariables;
      tf.tidy(() => {
        const f = (): tf.Scalar => tf.sum(tf.square(fuser.apply(x, y, { training: true, lengths: [T, T - 2] }).fused)) as tf.Scalar;
        if (vars.length > 0) tf.variableGrads(f, vars);
        else tf.grad((a: tf.Tensor) => tf.sum(tf.square(fuser.apply(a as tf.Tensor3D, y).fused)))(x);
      });
    };
    step(); // warm-up: backends may cache a few tensors on first use
    const before = tf.memory().numTensors;
    const calls = name === 'rtf' && options.selection === 'variance' ? 100 : 10;
    for (let i = 0; i < calls; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    const out = fuser.apply(x, y);
    expect(out.fused.shape).toEqual(name === 'late' ? [2 * B, T, C] : [B, T, C]);
    expect(Array.from(out.fused.dataSync()).every(Number.isFinite)).toBe(true);
    disposeOutput(out);
    const weights = fuser.getWeights();
    const names = [...weights.keys()];
    const named = fuser.namedTrainableVariables;
    expect([...named.values()]).toEqual(fuser.trainableVariables);
    expect(names).toEqual(expect.arrayContaining([...named.keys()]));
    if (name === 'rtf' || name === 'hard-swap') {
      expect(names).toContain('blocks.0.attn.qkv.weight');
      expect(weights.get('blocks.0.attn.qkv.weight')!.shape).toEqual([3 * C, C]);
      expect(weights.get('blocks.0.mlp.mlp.0.weight')!.shape).toEqual([4 * C, C]);
      expect(names.includes('alpha')).toBe(name === 'rtf');
      expect(names.includes('bn_rgb.running_var')).toBe(true);
    }
    if (name === 'sa-fuser') expect(names).toEqual(expect.arrayContaining(['modality_token', 'blocks.0.norm1.weight', 'norm.bias']));
    if (name === 'concat') expect(weights.get('projection.weight')!.shape).toEqual([C, 2 * C]);
    if (name === 'mean' || name === 'late') expect(names).toEqual([]);
    // A fresh fuser with these weights computes the same thing.
    const twin = createFuser(name, { channels: C, heads: 4, seed: 99, ...options });
    twin.setWeights(weights, { strict: true });
    const a = fuser.apply(x, y);
    const b = twin.apply(x, y);
    expect(maxAbsDiff(a.fused, b.fused)).toBe(0);
    [a, b].forEach(disposeOutput);
    tf.dispose([...weights.values(), x, y]);
    fuser.dispose();
    twin.dispose();
  });

  it('hard-swap replaces exactly the selected channels by the partner\'s', () => {
    const fuser = createFuser('hard-swap', { channels: C, heads: 4, selection: 'variance', ratio: 0.25, batchNorm: false }) as RankEnhancingTokenFuser;
    const [x, y] = inputs();
    const out = fuser.apply(x, y);
    const xs = x.arraySync();
    const ys = y.arraySync();
    const ex = out.exchangedX!.arraySync();
    const ey = out.exchangedY!.arraySync();
    for (let b = 0; b < B; b++) {
      const sx = new Set(out.selectedX!.arraySync()[b]);
      const sy = new Set(out.selectedY!.arraySync()[b]);
      expect(sx.size).toBe(8);
      for (let t = 0; t < T; t++) {
        for (let c = 0; c < C; c++) {
          expect(ex[b]![t]![c]).toBe(sx.has(c) ? ys[b]![t]![c] : xs[b]![t]![c]);
          expect(ey[b]![t]![c]).toBe(sy.has(c) ? xs[b]![t]![c] : ys[b]![t]![c]);
        }
      }
    }
    disposeOutput(out);
    tf.dispose([x, y]);
    fuser.dispose();
  });

  it('rtf blends with one alpha in both directions, reading the pre-exchange tokens; sigmoid alpha too', () => {
    for (const alphaMode of ['raw', 'sigmoid'] as const) {
      const fuser = new RankEnhancingTokenFuser({ channels: C, heads: 4, selection: 'variance', ratio: 0.25, batchNorm: false, alpha: alphaMode, seed: 1 });
      const [x, y] = inputs();
      const out = fuser.apply(x, y);
      const aT = fuser.blendWeight();
      const a = aT.dataSync();
      if (alphaMode === 'sigmoid') expect(Array.from(a).every((v) => v > 0 && v < 1)).toBe(true);
      const xs = x.arraySync();
      const ys = y.arraySync();
      const ex = out.exchangedX!.arraySync();
      const ey = out.exchangedY!.arraySync();
      for (let b = 0; b < B; b++) {
        for (const c of out.selectedX!.arraySync()[b]!) {
          expect(ex[b]![3]![c]).toBeCloseTo(a[c]! * xs[b]![3]![c]! + (1 - a[c]!) * ys[b]![3]![c]!, 5);
        }
        for (const c of out.selectedY!.arraySync()[b]!) {
          expect(ey[b]![3]![c]).toBeCloseTo(a[c]! * ys[b]![3]![c]! + (1 - a[c]!) * xs[b]![3]![c]!, 5);
        }
      }
      disposeOutput(out);
      tf.dispose([x, y, aT]);
      fuser.dispose();
    }
  });

  it('mean, concat and late compute what they say', () => {
    const [x, y] = inputs();
    const mean = createFuser('mean', { channels: C }).apply(x, y);
    expect(maxAbsDiff(mean.fused, tf.tidy(() => tf.div(tf.add(x, y), 2)))).toBeLessThan(1e-7);
    const concat = createFuser('concat', { channels: C, seed: 2 });
    const w = concat.getWeights();
    const expected = tf.tidy(() => {
      const W = w.get('projection.weight')!; // (C, 2C), PyTorch layout
      const rows = tf.reshape(tf.concat([x, y], 2), [-1, 2 * C]);
      return tf.reshape(tf.add(tf.matMul(rows, W, false, true), w.get('projection.bias')!), [B, T, C]);
    });
    const got = concat.apply(x, y);
    expect(maxAbsDiff(got.fused, expected)).toBeLessThan(1e-5);
    const late = createFuser('late', { channels: C }) as LateFusion;
    const stacked = late.apply(x, y);
    const combined = late.combine(stacked.fused);
    expect(maxAbsDiff(combined, mean.fused)).toBeLessThan(1e-7);
    const avg = lateFusion([tf.ones([2]), tf.zeros([2])], [0.25, 0.75]);
    expect(Array.from(avg.dataSync())).toEqual([0.25, 0.25]);
    expect(() => lateFusion([tf.ones([2]), tf.ones([3])])).toThrow(/predictions\[1\]/);
    tf.dispose([x, y, mean.fused, expected, got.fused, stacked.fused, combined, avg, ...w.values()]);
    concat.dispose();
  });

  it('rejects bad options and inputs with a FuserError naming the field', () => {
    expect(() => createFuser('rtf', { selection: 'bn-gamma', batchNorm: false })).toThrow(/selection/);
    expect(() => createFuser('rtf', { ratio: 2 })).toThrow(/ratio/);
    expect(() => createFuser('nope' as FuserName)).toThrow(FuserError);
    expect(() => createFuser('rtf', { channels: 30, heads: 8 })).toThrow(/channels/);
    const fuser: Fuser = createFuser('rtf', { channels: C, heads: 4 });
    const [x, y] = inputs();
    const bad = tf.zeros([B, T + 1, C]) as tf.Tensor3D;
    expect(() => fuser.apply(x, bad)).toThrow(/^y: expected tokens of the shape of x \[2, 6, 32\], found \[2, 7, 32\]/);
    expect(() => fuser.setWeights({ alpha: { shape: [3], data: [1, 2, 3] } })).toThrow(/weight 'alpha': expected shape \[1, 1, 32\], found \[3\]/);
    expect(() => fuser.setWeights({}, { strict: true })).toThrow(/missing alpha/);
    tf.dispose([x, y, bad]);
    fuser.dispose();
  });
});

describe('cpu and wasm agree to 1e-5', () => {
  it('forward (eval and training BatchNorm) and gradients of every weight', async () => {
    const run = async (backend: string, weights?: Map<string, tf.Tensor>) => {
      await selectBackend({ backend });
      const fuser = new RankEnhancingTokenFuser({ selection: 'variance', ratio: 0.3, dropout: 0, seed: 4 });
      if (weights) fuser.setWeights(weights);
      const exported = fuser.getWeights(); // before any training step moves the running statistics
      const plain = new Map([...exported].map(([k, t]) => [k, tf.tensor(t.dataSync(), t.shape)] as const));
      const x = tf.randomNormal([2, 10, 128], 0, 1, 'float32', 31) as tf.Tensor3D;
      const y = tf.randomNormal([2, 10, 128], 0, 1, 'float32', 32) as tf.Tensor3D;
      const r = tf.randomNormal([2, 10, 128], 0, 1, 'float32', 33);
      const evalOut = fuser.apply(x, y, { lengths: [10, 7] });
      const values: Record<string, Float32Array> = {
        fused: evalOut.fused.dataSync() as Float32Array,
        exchangedX: evalOut.exchangedX!.dataSync() as Float32Array,
      };
      disposeOutput(evalOut);
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(fuser.apply(x, y, { training: true, lengths: [10, 7] }).fused, r)) as tf.Scalar,
        fuser.trainableVariables,
      );
      values.loss = value.dataSync() as Float32Array;
      fuser.trainableVariables.forEach((v, i) => (values[`grad ${i}`] = grads[v.name]!.dataSync() as Float32Array));
      tf.dispose([value, ...Object.values(grads), ...exported.values(), x, y, r]);
      fuser.dispose();
      return { values, weights: plain };
    };
    const cpu = await run('cpu');
    const cpuWeights = new Map([...cpu.weights].map(([k, t]) => [k, { shape: t.shape, data: t.dataSync() }] as const));
    tf.dispose([...cpu.weights.values()]);
    await selectBackend({ backend: 'wasm' });
    const wasm = await run('wasm', new Map([...cpuWeights].map(([k, v]) => [k, tf.tensor(v.data, v.shape)] as const)));
    tf.dispose([...wasm.weights.values()]);
    expect(Object.keys(wasm.values)).toEqual(Object.keys(cpu.values));
    for (const key of Object.keys(cpu.values)) {
      const scale = key === 'loss' ? Math.max(1, Math.abs(cpu.values.loss![0]!)) : 1;
      expect(maxAbsDiff(cpu.values[key]!, wasm.values[key]!) / scale, key).toBeLessThanOrEqual(1e-5);
    }
  });
});
