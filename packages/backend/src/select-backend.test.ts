import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { BackendUnavailableError, defaultCandidates, describeBackend, selectBackend } from './index.js';

const failing = (name: string, reason: string) => ({
  name,
  backend: 'tensorflow',
  via: 'test',
  load: async () => {
    throw new Error(reason);
  },
});

describe('selectBackend', () => {
  it('falls back to wasm when the tensorflow bindings fail, and says why', async () => {
    const candidates = [
      failing('tensorflow-gpu', 'cannot load @tensorflow/tfjs-node-gpu: libcudart.so.11.0: not found'),
      failing('tensorflow-cpu', 'cannot load @tensorflow/tfjs-node: binding missing'),
      ...defaultCandidates.filter((c) => c.name === 'wasm' || c.name === 'cpu'),
    ];
    const report = await selectBackend({ env: {}, candidates });
    expect(report.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'tensorflow-cpu']);
    expect(report.skipped[0]!.reason).toContain('libcudart');
    expect(describeBackend(report)).toMatch(/^backend wasm \(auto\); skipped tensorflow-gpu: .*libcudart/);
  });

  it('with the real candidates, skips the uninstalled native binding with a reason', async () => {
    const report = await selectBackend({ env: {} });
    if (report.backend === 'tensorflow') return; // a machine with libtensorflow: nothing was skipped
    expect(report.skipped.length).toBeGreaterThanOrEqual(2);
    for (const s of report.skipped) expect(s.reason.length).toBeGreaterThan(10);
    expect(['native-blas', 'wasm', 'cpu']).toContain(report.name);
    // native-blas comes right after the tensorflow bindings: chosen, or skipped with its reason.
    if (report.name !== 'native-blas') expect(report.skipped.map((s) => s.name)).toContain('native-blas');
  });

  it('orders the candidates tensorflow-gpu, tensorflow-cpu, native-blas, wasm, cpu', () => {
    expect(defaultCandidates.map((c) => c.name)).toEqual(['tensorflow-gpu', 'tensorflow-cpu', 'native-blas', 'wasm', 'cpu']);
  });

  it('honours R3D_BACKEND and the explicit option, option first', async () => {
    expect((await selectBackend({ env: { R3D_BACKEND: 'cpu' } })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const r = await selectBackend({ backend: 'wasm', env: { R3D_BACKEND: 'cpu' } });
    expect(r).toMatchObject({ name: 'wasm', source: 'option' });
  });

  it('refuses an unknown or failing requested backend instead of silently falling back', async () => {
    await expect(selectBackend({ backend: 'webgpu', env: {} })).rejects.toThrow(/unknown backend; expected one of: auto, tensorflow-gpu/);
    const candidates = [failing('tensorflow-gpu', 'no CUDA'), ...defaultCandidates.slice(3)];
    const err = await selectBackend({ backend: 'tensorflow-gpu', env: {}, candidates }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toContain('no CUDA');
  });

  it.each(testBackends())('activates %s from the test matrix', async (name) => {
    await selectBackend({ backend: name, env: {} });
    const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0]);
    expect(y).toBe(11);
  });
});
