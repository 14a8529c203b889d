import { spawnSync } from 'node:child_process';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import * as tf from '@tensorflow/tfjs-core';
import { R3DAdamW } from '@r3d-ts/kernel-names';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, clipByGlobalNorm } from './adamw.js';
import { adamWRunsSimd } from './adamw-wasm.js';

const python = '/usr/bin/python3';
const torchAvailable = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0;

// a fixed sequence of gradients and learning rates (warm-up-like change of lr between steps)
const P0 = [0.3, -1.2, 2.5, 0.0, -0.7, 1.1];
const GRADS = [
  [0.5, -0.1, 0.02, 1.5, -0.3, 0.0],
  [-0.2, 0.4, 0.01, -1.0, 0.25, 0.3],
  [0.05, 0.05, -0.5, 0.7, 0.0, -0.2],
  [1.0, -2.0, 0.3, 0.1, 0.6, 0.05],
];
const LRS = [1e-2, 2e-2, 3e-2, 1.5e-2];

describe.each(testBackends())('AdamW on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });

  it('matches a hand-computed first step (decoupled decay, bias correction)', () => {
    const p = tf.variable(tf.tensor1d([1.0, -2.0]));
    const opt = new AdamW({ weightDecay: 0.01 });
    opt.applyGradients({ p: tf.tensor1d([0.5, -0.1]) }, { p }, 0.1);
    // p*(1 - 0.1*0.01) = [0.999, -1.998]; m = [0.05, -0.01]; v = [2.5e-4, 1e-5];
    // m/(1-0.9) / (sqrt(v/(1-0.999)) + 1e-8) = [1, -1] (to 1e-7); step lr = 0.1
    const got = Array.from(p.dataSync());
    expect(got[0]).toBeCloseTo(0.899, 6);
    expect(got[1]).toBeCloseTo(-1.898, 6);
    expect(opt.step).toBe(1);
    opt.dispose();
    p.dispose();
  });

  it('decays the weight even when the gradient is zero, and leaves parameters without a gradient untouched', () => {
    const a = tf.variable(tf.tensor1d([2.0]));
    const b = tf.variable(tf.tensor1d([3.0]));
    const opt = new AdamW({ weightDecay: 0.5 });
    opt.applyGradients({ a: tf.tensor1d([0]) }, { a, b }, 0.1);
    expect(a.dataSync()[0]).toBeCloseTo(2.0 * (1 - 0.05), 6); // m = 0, so only the decay acts
    expect(b.dataSync()[0]).toBe(3.0);
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  it('follows a float64 reference of torch.optim.AdamW over several steps with a changing lr', () => {
    const ref = referenceAdamW(P0, GRADS, LRS, 5e-3);
    const p = tf.variable(tf.tensor1d(P0));
    const opt = new AdamW({ weightDecay: 5e-3 });
    GRADS.forEach((g, i) => tf.tidy(() => opt.applyGradients({ p: tf.tensor1d(g) }, { p }, LRS[i])));
    const got = Array.from(p.dataSync());
    got.forEach((x, i) => expect(Math.abs(x - ref[i])).toBeLessThan(2e-6));
    opt.dispose();
    p.dispose();
  });

  it('round-trips its state and does not leak tensors', () => {
    const p = tf.variable(tf.tensor1d(P0));
    const opt = new AdamW({ weightDecay: 5e-3 });
    opt.applyGradients({ p: tf.tensor1d(GRADS[0]) }, { p }, 1e-2);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => opt.applyGradients({ p: tf.tensor1d(GRADS[1]) }, { p }, 1e-2));
    expect(tf.memory().numTensors).toBe(before);
    const state = opt.getState();
    expect(Object.keys(state.moments).sort()).toEqual(['exp_avg.p', 'exp_avg_sq.p']);
    const q = tf.variable(p.clone());
    const other = new AdamW({ weightDecay: 5e-3 });
    other.setState(state);
    tf.dispose(state.moments);
    tf.tidy(() => opt.applyGradients({ p: tf.tensor1d(GRADS[2]) }, { p }, 1e-2));
    tf.tidy(() => other.applyGradients({ p: tf.tensor1d(GRADS[2]) }, { p: q }, 1e-2));
    expect(Array.from(q.dataSync())).toEqual(Array.from(p.dataSync()));
    expect(other.step).toBe(5);
    [opt, other, p, q].forEach((x) => x.dispose());
  });

  it('clips by global norm as torch.nn.utils.clip_grad_norm_', () => {
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
    const { grads: clipped, norm } = clipByGlobalNorm(grads, 1);
    expect(norm).toBeCloseTo(5, 5);
    expect(Array.from(clipped.a.dataSync())[0]).toBeCloseTo(3 / (5 + 1e-6), 5);
    expect(Array.from(clipped.b.dataSync())[1]).toBeCloseTo(4 / (5 + 1e-6), 5);
    tf.dispose(clipped);
    const small = { a: tf.tensor1d([0.1]) };
    expect(clipByGlobalNorm(small, 1).grads.a).toBe(small.a); // unchanged below the limit
    small.a.dispose();
  });

  it.skipIf(!torchAvailable)('equals torch.optim.AdamW (torch 1.13, float32) to 1e-6', () => {
    const torchP = torchResult();
    const p = tf.variable(tf.tensor1d(P0));
    const opt = new AdamW({ weightDecay: 5e-3 });
    GRADS.forEach((g, i) => tf.tidy(() => opt.applyGradients({ p: tf.tensor1d(g) }, { p }, LRS[i])));
    Array.from(p.dataSync()).forEach((x, i) => expect(Math.abs(x - torchP[i])).toBeLessThan(1e-6));
    opt.dispose();
    p.dispose();
  });
});

let torchCache: number[] | undefined;
/** The same steps run by torch.optim.AdamW itself (once per file). */
function torchResult(): number[] {
  if (torchCache) return torchCache;
  const script = `
import json, sys, torch
d = json.load(sys.stdin)
p = torch.nn.Parameter(torch.tensor(d['p0'], dtype=torch.float32))
opt = torch.optim.AdamW([p], lr=d['lrs'][0], weight_decay=d['wd'])
for g, lr in zip(d['grads'], d['lrs']):
    for group in opt.param_groups: group['lr'] = lr
    p.grad = torch.tensor(g, dtype=torch.float32)
    opt.step()
print(json.dumps(p.detach().tolist()))`;
  const run = spawnSync(python, ['-c', script], { input: JSON.stringify({ p0: P0, grads: GRADS, lrs: LRS, wd: 5e-3 }), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`torch reference failed: ${run.stderr}`);
  torchCache = JSON.parse(run.stdout) as number[];
  return torchCache;
}

/** torch.optim.AdamW's update written out in float64 (the reference the tests compare to). */
function referenceAdamW(p0: number[], grads: number[][], lrs: number[], wd: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    const lr = lrs[k];
    for (let i = 0; i < p.length; i++) {
      p[i] *= 1 - lr * wd;
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const denom = Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps;
      p[i] -= (lr / (1 - b1 ** t)) * (m[i] / denom);
    }
  });
  return p;
}

describe('AdamW fused kernel', () => {
  const native = testBackends().includes('native-blas');
  // Five updates of three parameters (one without weight decay) with fixed gradients.
  async function run(backend: string): Promise<Float32Array[]> {
    await selectBackend({ backend });
    const variables = {
      w: tf.variable(tf.randomUniform([300, 70], -1, 1, 'float32', 1)),
      b: tf.variable(tf.randomUniform([70], -1, 1, 'float32', 2)),
      big: tf.variable(tf.randomUniform([600, 517], -1, 1, 'float32', 3)), // threaded past 2^18 elements
      // past 2^20 elements native-blas writes with non-temporal stores (and the last few with plain ones)
      huge: tf.variable(tf.randomUniform([1024, 1100], -1, 1, 'float32', 4)),
    };
    const opt = new AdamW({ weightDecay: 5e-3, noDecay: (name) => name === 'b' });
    for (let step = 0; step < 5; step++) {
      const grads = tf.tidy(() => ({
        w: tf.randomNormal([300, 70], 0, 1, 'float32', 10 + step),
        b: tf.randomNormal([70], 0, 1e-3, 'float32', 20 + step),
        big: tf.randomNormal([600, 517], 0, 10, 'float32', 30 + step),
        huge: tf.randomNormal([1024, 1100], 0, 1, 'float32', 40 + step),
      }));
      opt.applyGradients(grads, variables, 1e-3 * (step + 1));
      tf.dispose(Object.values(grads));
    }
    const state = opt.getState();
    const out = [...Object.values(variables), ...Object.values(state.moments)].map((t) => t.dataSync().slice() as Float32Array);
    tf.dispose([...Object.values(variables), ...Object.values(state.moments)]);
    opt.dispose();
    return out;
  }

  it.skipIf(!native)(native ? 'gives the composed update bit for bit (native-blas fused against cpu composed)' : 'skipped: native-blas is not in the test matrix', async () => {
    const composed = await run('cpu');
    const fused = await run('native-blas');
    expect(tf.getKernel(R3DAdamW, 'native-blas')).toBeDefined();
    expect(fused.length).toBe(composed.length);
    fused.forEach((values, i) => expect(Buffer.from(values.buffer).equals(Buffer.from(composed[i]!.buffer)), `tensor ${i}`).toBe(true));
  });

  it('gives the composed update bit for bit on wasm too (its SIMD and JavaScript loops against cpu composed)', async () => {
    const composed = await run('cpu');
    const fused = await run('wasm');
    expect(tf.getKernel(R3DAdamW, 'wasm')).toBeDefined();
    expect(adamWRunsSimd(tf.findBackend('wasm')!)).toBe(true);
    expect(fused.length).toBe(composed.length);
    fused.forEach((values, i) => expect(Buffer.from(values.buffer).equals(Buffer.from(composed[i]!.buffer)), `tensor ${i}`).toBe(true));
  });
});
