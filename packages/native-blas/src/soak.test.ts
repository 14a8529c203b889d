import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { NATIVE_BLAS, nativeBlasStatus, registerNativeBlasBackend } from './index.js';
import { tinyTransformer } from './testing/tiny-transformer.js';
import { soak } from '@r3d-ts/tooling/vitest/soak';

const MB = 1024 * 1024;

describe.skipIf(!nativeBlasStatus().available && process.env.CI !== 'true')('1000 training steps on native-blas', () => {
  it('keeps tf.memory() and process RSS flat, and the loss falls', async () => {
    registerNativeBlasBackend();
    await tf.setBackend(NATIVE_BLAS);
    const model = tinyTransformer({ batch: 4, tokens: 16, channels: 32, heads: 4, hidden: 64 });
    const { first, last, before: memory, after, growth, lateGrowth, summary } = soak(() => model.step(), () => tf.memory());
    console.log(`soak: ${summary}`);
    expect(after.numTensors).toBe(memory.numTensors);
    expect(after.numBytes).toBe(memory.numBytes);
    // Each step allocates ~1 MB of tensor data (sum over all intermediates); 800 steps of leaked
    // buffers would be ~800 MB, 400 steps ~400 MB. The allowances cover V8 heap growth and when
    // the collector happens to run (seen: +10 to +78 MB over 800 steps on a 2-core VM).
    expect(growth).toBeLessThan(128 * MB);
    expect(lateGrowth).toBeLessThan(64 * MB);
    expect(last).toBeLessThan(first);
    model.dispose();
  });
});
