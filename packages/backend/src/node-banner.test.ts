import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendUnavailableError, selectBackend } from './index.js';

const BANNER = /Hi, looks like you are running TensorFlow\.js in Node\.js/;

afterEach(() => vi.restoreAllMocks());

describe('the tfjs "install our node backend" banner (issue 17 item 3)', () => {
  it('is not printed once selectBackend chose the cpu backend, and tfjs warnings still are', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await selectBackend({ backend: 'cpu', env: {} });
    tf.tidy(() => tf.add(tf.tensor1d([1, 2]), 1).dataSync());
    expect(warn.mock.calls.flat().join('\n')).not.toMatch(BANNER);
    // a real warning of tfjs (a kernel registered twice) still reaches console.warn
    const kernel = tf.getKernelsForBackend('cpu')[0]!;
    tf.registerKernel(kernel);
    expect(warn.mock.calls.flat().join('\n')).toMatch(new RegExp(`kernel '${kernel.kernelName}' for backend 'cpu' is already registered`));
  });

  it('a failed import of a binding leaves none of its kernels for the next candidate to re-register', async () => {
    const before = tf.getKernelsForBackend('tensorflow').length;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const outcome = await selectBackend({ backend: 'tensorflow', env: {} }).then(() => 'started', (e: unknown) => e);
    if (outcome === 'started') return; // a machine where libtensorflow loads: nothing was left behind
    expect(outcome).toBeInstanceOf(BackendUnavailableError);
    expect(tf.getKernelsForBackend('tensorflow').length).toBe(before);
    expect(warn.mock.calls.flat().join('\n')).not.toMatch(/already registered/);
  });
});
