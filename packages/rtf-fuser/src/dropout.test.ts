import { selectBackend } from '@r3d-ts/backend';
import { R3DDropoutMultiplier } from '@r3d-ts/kernel-names';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { dropout } from './dropout.js';
import { FuserError } from './errors.js';

const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer));
const ramp = (n: number): tf.Tensor2D => tf.reshape(tf.sub(tf.mul(tf.range(0, n), 0.37), 7), [n / 8, 8]) as tf.Tensor2D;

describe.each(testBackends())('dropout with a tensor seed on %s', (backend) => {
  it("equals tf.dropout with the number seed, values and gradient, bit for bit, without a readback", async () => {
    await selectBackend({ backend });
    expect(tf.getKernel(R3DDropoutMultiplier, backend)).toBeDefined();
    const x = ramp(96); // negative values too: a dropped one is -0, as tf.dropout leaves it
    const seed = 4_000_000_000; // past 2^31: the int32 tensor holds its bit pattern
    const base = tf.scalar(seed | 0, 'int32');
    const before = tf.memory().numTensors;
    const want = tf.tidy(() => bits(tf.dropout(x, 0.3, undefined, seed + 5)));
    const wantGrad = tf.tidy(() => bits(tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.dropout(v, 0.3, undefined, seed + 5))))(x)));
    const backendRead = tf.backend().readSync;
    let reads = 0;
    tf.backend().readSync = function (this: tf.KernelBackend, ...args: Parameters<tf.KernelBackend['readSync']>) {
      reads++;
      return backendRead.apply(this, args);
    };
    let got: tf.Tensor;
    try {
      got = dropout(x, 0.3, { base, offset: 5 });
    } finally {
      tf.backend().readSync = backendRead;
    }
    expect(reads).toBe(1); // the kernel's own read of the seed, inside the kernel
    expect(bits(got)).toEqual(want);
    got.dispose();
    const grad = tf.tidy(() => bits(tf.grad((v: tf.Tensor) => tf.sum(tf.square(dropout(v, 0.3, { base, offset: 5 }))))(x)));
    expect(grad).toEqual(wantGrad);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, base]);
  });
});

describe('dropout', () => {
  it('reads the seed back where the backend has no kernel, and draws the same mask', async () => {
    await selectBackend({ backend: 'cpu' });
    const config = tf.getKernel(R3DDropoutMultiplier, 'cpu')!;
    tf.unregisterKernel(R3DDropoutMultiplier, 'cpu');
    try {
      const x = ramp(64);
      const base = tf.scalar(77, 'int32');
      expect(tf.tidy(() => bits(dropout(x, 0.5, { base, offset: 2 })))).toEqual(tf.tidy(() => bits(tf.dropout(x, 0.5, undefined, 79))));
      tf.dispose([x, base]);
    } finally {
      tf.registerKernel(config);
    }
  });

  it('is the identity at rate 0, and takes number seeds as tf.dropout does', async () => {
    await selectBackend({ backend: 'cpu' });
    const x = ramp(16);
    expect(dropout(x, 0)).toBe(x);
    expect(tf.tidy(() => bits(dropout(x, 0.2, 9)))).toEqual(tf.tidy(() => bits(tf.dropout(x, 0.2, undefined, 9))));
    x.dispose();
  });

  it('names the field of a seed that is not an int32 scalar', async () => {
    await selectBackend({ backend: 'cpu' });
    const x = ramp(16);
    const base = tf.tensor1d([1, 2], 'int32');
    expect(() => dropout(x, 0.2, { base, offset: 0 })).toThrow(FuserError);
    expect(() => dropout(x, 0.2, { base, offset: 0 })).toThrow(/seed\.base: expected an int32 scalar.*found int32 \[2\]/);
    tf.dispose([x, base]);
  });
});
