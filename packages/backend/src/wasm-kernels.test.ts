import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without typings
import { compileWat, wasmModuleSource } from '../../../scripts/wasm-module.mjs';
import { selectBackend } from './select-backend.js';
import { createRequire } from 'node:module';
import { R3DGelu, R3DGeluGrad, R3DLayerNorm, R3DLayerNormGrad } from '@r3d-ts/kernel-names';
import { EXP2F_TABLE, multipliesTransposed, packsByColumns, simplifyTranspose, splitTrialsOf, tfjsWasmKernel, usesHeapKernels } from './wasm-kernels.js';

/** The same op on cpu (reference) and on wasm (the replaced kernels), compared exactly. */
async function both(make: () => tf.Tensor): Promise<[tf.TypedArray | number[], tf.TypedArray | number[]]> {
  await selectBackend({ backend: 'cpu' });
  const ref = tf.tidy(make);
  const want = ref.dataSync().slice();
  ref.dispose();
  await selectBackend({ backend: 'wasm' });
  const before = tf.memory().numTensors;
  const got = tf.tidy(make);
  const have = got.dataSync().slice();
  expect(got.shape).toEqual(ref.shape);
  got.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return [have, want];
}

const ramp = (shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32'): tf.Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const t = tf.range(0, n, 1, dtype === 'bool' ? 'int32' : dtype);
  const v = dtype === 'bool' ? tf.greater(tf.mod(t, 3), 0) : dtype === 'float32' ? tf.add(tf.mul(t, 0.37), -5) : t;
  return tf.reshape(v, shape);
};

describe('simplifyTranspose', () => {
  it('drops size-1 axes and merges neighbours that stay neighbours', () => {
    expect(simplifyTranspose([128, 19200], [1, 0])).toEqual({ shape: [128, 19200], perm: [1, 0] });
    expect(simplifyTranspose([2, 3, 4, 5], [0, 1, 3, 2])).toEqual({ shape: [6, 4, 5], perm: [0, 2, 1] });
    expect(simplifyTranspose([2, 3, 4, 5], [2, 3, 0, 1])).toEqual({ shape: [6, 20], perm: [1, 0] });
    expect(simplifyTranspose([8, 1, 16], [1, 2, 0])).toEqual({ shape: [8, 16], perm: [1, 0] });
    expect(simplifyTranspose([5, 1, 7], [0, 2, 1])).toEqual({ shape: [5, 7], perm: [0, 1] });
    expect(simplifyTranspose([2, 3, 4], [2, 0, 1])).toEqual({ shape: [6, 4], perm: [1, 0] });
    expect(simplifyTranspose([2, 3, 4], [1, 0, 2])).toEqual({ shape: [2, 3, 4], perm: [1, 0, 2] });
  });
});

describe('wasm Transpose, Tile, Slice and SplitV (registered by selectBackend) equal cpu exactly', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });

  it('has the compiled heap-kernels.wat, for both heaps (the committed module never drifts from its source)', async () => {
    const committed = readFileSync(new URL('./heap-kernels-wasm.ts', import.meta.url), 'utf8');
    const wat = new URL('./heap-kernels.wat', import.meta.url).pathname;
    expect(committed).toBe(wasmModuleSource('heap-kernels.wat', 'HEAP_KERNELS_WASM_BASE64', await compileWat(wat, new URL('..', import.meta.url).pathname)));
  });

  it('runs the SIMD kernels on the wasm heap (the transposes and sums below test them)', () => {
    expect(usesHeapKernels(tf.backend())).toBe(true);
  });

  const transposes: Array<[number[], number[]]> = [
    // SIMD: whole groups of four rows and columns in heap-kernels.wat, the rest in the loops
    [[4, 4], [1, 0]],
    [[5, 7], [1, 0]],
    [[3, 70], [1, 0]], // under four rows: the loops only
    [[70, 3], [1, 0]],
    [[2, 9, 522], [0, 2, 1]], // past one 256-column block, with a column tail, per batch
    [[37, 70], [1, 0]],
    [[128, 300], [1, 0]],
    [[3, 33, 65], [0, 2, 1]],
    // eight rows at a time over 256-column blocks: full groups, a row tail, a column tail, per batch
    [[2, 17, 600], [0, 2, 1]],
    [[600, 9], [1, 0]],
    [[2, 3, 4, 5], [0, 1, 3, 2]],
    [[2, 3, 4, 5], [2, 3, 0, 1]],
    [[4, 1, 9, 6], [0, 3, 1, 2]],
    [[2, 3, 4], [1, 0, 2]], // not a swap: tfjs's own kernel
    [[2, 3, 4, 5], [3, 1, 0, 2]],
    [[1, 1], [1, 0]],
    [[0, 5], [1, 0]],
  ];
  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    for (const [shape, perm] of transposes) {
      it(`transposes ${dtype} [${shape}] by [${perm}]`, async () => {
        const [have, want] = await both(() => tf.transpose(ramp(shape, dtype), perm));
        expect(Array.from(have)).toEqual(Array.from(want));
      });
    }
  }

  const tiles: Array<[number[], number[]]> = [
    [[1600, 1], [1, 128]],
    [[800, 2, 8, 1, 16], [1, 1, 1, 2, 1]],
    [[800, 2, 8, 2, 1], [1, 1, 1, 1, 16]],
    [[3, 5], [2, 3]],
    [[2, 3, 4], [3, 1, 2]],
    [[7], [5]],
    [[2, 1, 3], [1, 4, 1]],
    [[0, 3], [2, 2]],
  ];
  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    for (const [shape, reps] of tiles) {
      it(`tiles ${dtype} [${shape}] by [${reps}]`, async () => {
        const [have, want] = await both(() => tf.tile(ramp(shape, dtype), reps));
        expect(Array.from(have)).toEqual(Array.from(want));
      });
    }
  }

  // [shape, begin, size]: contiguous, strided runs long and short, every rank, empty, a scalar run
  const slices: Array<[number[], number[], number[]]> = [
    [[1600, 384], [0, 128], [1600, 128]],
    [[1, 2000, 128], [0, 1900, 0], [1, 100, 128]],
    [[4, 5, 6], [1, 2, 3], [2, 3, 2]],
    [[4, 5, 6], [1, 0, 0], [2, 5, 6]],
    [[2, 3, 4, 5], [1, 1, 0, 2], [1, 2, 4, 3]],
    [[2, 3, 2, 3, 40], [0, 1, 1, 0, 3], [2, 2, 1, 3, 37]],
    [[37], [5], [20]],
    [[6, 7], [2, 0], [0, 7]],
  ];
  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    for (const [shape, begin, size] of slices) {
      it(`slices ${dtype} [${shape}] at [${begin}] by [${size}]`, async () => {
        const [have, want] = await both(() => tf.slice(ramp(shape, dtype), begin, size));
        expect(Array.from(have)).toEqual(Array.from(want));
      });
    }
  }

  it('splits (SplitV) along every axis equal cpu, and their gradient (a concat) too', async () => {
    const cases: Array<[number[], number | number[], number]> = [[[800, 256], [128, 128], 1], [[800, 2, 128], 2, 1], [[6, 5, 4], [1, 3, 2], 0], [[3, 4, 70], [10, 60], -1]];
    for (const [shape, sizes, axis] of cases) {
      for (let i = 0; i < (typeof sizes === 'number' ? sizes : sizes.length); i++) {
        const [have, want] = await both(() => tf.split(ramp(shape), sizes, axis)[i]!);
        expect(Array.from(have), `[${shape}] split ${sizes} on ${axis}, part ${i}`).toEqual(Array.from(want));
      }
    }
    const [have, want] = await both(() => tf.grad((v: tf.Tensor) => {
      const [a, b] = tf.split(v, [1, 2], 1);
      return tf.sum(tf.add(tf.mul(a!, 3), tf.sum(tf.square(b!), 1, true)));
    })(ramp([4, 3, 5])));
    expect(Array.from(have)).toEqual(Array.from(want));
  });

  it('Identity (tf.clone) shares the buffer: values survive the source, memory returns to the start', async () => {
    await selectBackend({ backend: 'wasm' });
    const before = tf.memory();
    const x = tf.tidy(() => ramp([3, 4]));
    const want = Array.from(x.dataSync());
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers + 1); // one buffer, two tensors
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual(want);
    const z = tf.add(y, 1); // a kernel reading the shared buffer
    expect(Array.from(z.dataSync())).toEqual(want.map((v) => Math.fround(v + 1)));
    tf.dispose([y, z]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    // a custom gradient saves its input through Identity
    const f = tf.customGrad(((a: tf.Tensor, save: tf.GradSaveFunc) => {
      save([a]);
      return { value: tf.square(a), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(tf.mul(dy as tf.Tensor, saved[0]!), 2)] };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    const [have, ref] = await both(() => tf.grad((a: tf.Tensor) => tf.sum(f(a) as tf.Tensor))(ramp([5, 7])));
    expect(Array.from(have)).toEqual(Array.from(ref));
  });

  it('broadcastTo (a Tile) and its gradient equal cpu', async () => {
    const f = () => {
      const x = ramp([4, 1, 3]);
      return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.broadcastTo(v, [4, 6, 3]), ramp([4, 6, 3]))))(x);
    };
    const [have, want] = await both(f);
    expect(Array.from(have)).toEqual(Array.from(want));
  });

  describe('Sum over leading axes, against tfjs-backend-wasm\'s own Sum bit for bit', () => {
    // values over twelve orders of magnitude, so that the order and width of the additions show
    const wide = (shape: number[], seed: number): tf.Tensor =>
      tf.tidy(() => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), tf.pow(10, tf.randomUniform(shape, -6, 6, 'float32', seed + 1))));
    const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array(new Float32Array(t.dataSync()).buffer));
    const cases: Array<[number[], number | number[], boolean]> = [
      [[1600, 512], 0, false],
      [[8, 100, 128], [0, 1], false],
      [[8, 100, 128], [0, 1], true],
      [[8, 100, 128], 0, false],
      [[3, 1, 5], [0, 1], true],
      [[1, 7], 0, false],
      [[5, 0], 0, false],
    ];
    for (const [shape, axis, keepDims] of cases) {
      it(`sums [${shape}] over ${JSON.stringify(axis)}${keepDims ? ', keeping dims' : ''}`, () => {
        const x = wide(shape, shape.length * 100 + shape[0]!);
        const have = tf.sum(x, axis, keepDims);
        const info = tfjsWasmKernel('Sum')!({ inputs: { x }, backend: tf.backend(), attrs: { axis, keepDims } }) as tf.TensorInfo;
        const want = tf.engine().makeTensorFromTensorInfo(info);
        expect(have.shape).toEqual(want.shape);
        expect(bits(have)).toEqual(bits(want));
        tf.dispose([x, have, want]);
      });
    }

    it('sums from +0 as tfjs does (signed zeros, NaN), gives zeros for no rows, and leaves other reductions to tfjs', () => {
      const x = tf.tensor2d([-0, -0, 1, NaN, -0, 2], [3, 2]);
      expect(Array.from(tf.sum(x, 0).dataSync())).toEqual([1, NaN]);
      const zeros = tf.tensor2d([-0, -0], [2, 1]);
      expect(Array.from(tf.sum(zeros, 0).dataSync())).toEqual([0]); // +0 + -0 + -0 = +0 (toEqual tells -0 apart)
      expect(Array.from(tf.sum(zeros, 1).dataSync())).toEqual([0, 0]); // tfjs's own, innermost
      expect(Array.from(tf.sum(tf.zeros([0, 5]), 0).dataSync())).toEqual([0, 0, 0, 0, 0]);
      const ints = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
      expect(Array.from(tf.sum(ints, 0).dataSync())).toEqual([4, 6]);
      expect(Array.from(tf.sum(x, 1).dataSync())).toEqual([0, NaN, 2]);
      const unordered = tf.randomNormal([4, 6, 3], 0, 1, 'float32', 3);
      const info = tfjsWasmKernel('Sum')!({ inputs: { x: unordered }, backend: tf.backend(), attrs: { axis: [1, 0], keepDims: false } }) as tf.TensorInfo;
      const want = tf.engine().makeTensorFromTensorInfo(info);
      expect(Array.from(tf.sum(unordered, [1, 0]).dataSync())).toEqual(Array.from(want.dataSync()));
      tf.dispose([x, zeros, ints, unordered, want]);
    });
  });

  const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array(new Float32Array(t.dataSync()).buffer));
  const tfjs = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
    tf.engine().makeTensorFromTensorInfo(tfjsWasmKernel('BatchMatMul')!({ inputs: { a, b }, backend: tf.backend(), attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo);
  /**
   * One test per shape: tf.matMul runs the way named (checked), with the bits of tfjs's own kernel,
   * and frees every temporary it made (the transposes, the column blocks).
   */
  const productCases = (way: 'transposed' | 'by columns', cases: Array<[number[], number[]]>): void => {
    for (const [aShape, bShape] of cases) {
      it(`multiplies [${aShape}] by [${bShape}] ${way}, with the bits of tfjs's one product`, () => {
        const a = tf.randomNormal(aShape, 0, 1, 'float32', 5);
        const b = tf.randomNormal(bShape, 0, 1, 'float32', 6);
        expect(multipliesTransposed(a, b, false, false, tf.backend())).toBe(way === 'transposed');
        if (way === 'by columns') expect(packsByColumns(a, b, false, false, tf.backend())).toBe(true);
        const before = [tf.memory().numTensors, tf.memory().numBytes];
        const have = tf.matMul(a, b);
        const want = tfjs(a, b);
        expect(have.shape).toEqual(want.shape);
        expect(bits(have)).toEqual(bits(want));
        // a shape's first product is split (the timed choice starts with that way)
        if (way === 'by columns') expect(splitTrialsOf(tf.backend()).get(`${aShape.at(-2)}x${aShape.at(-1)}x${bShape.at(-1)}`)).toMatchObject({ split: [expect.any(Number)], whole: [] });
        tf.dispose([have, want]);
        expect([tf.memory().numTensors, tf.memory().numBytes]).toEqual(before);
        tf.dispose([a, b]);
      });
    }
  };

  /**
   * Right operands of one (K, N) shape as a product meets them: a variable's value, a transpose the
   * cache keeps (a variable's second transpose, of 64K elements and more), a transpose made once,
   * and a fresh tensor.
   */
  const operands = (k: number, n: number, seed: number) => {
    const value = tf.randomNormal([k, n], 0, 1, 'float32', seed);
    const weight = tf.variable(value);
    const w = tf.variable(tf.transpose(value));
    const once = tf.transpose(w);
    const kept = tf.transpose(w);
    const fresh = tf.add(value, 0);
    /** What `decide(a, b)` says for each kind of b. */
    const decisions = (decide: (a: tf.Tensor, b: tf.Tensor) => boolean, a: tf.Tensor) =>
      Object.fromEntries(Object.entries({ value, kept, once, fresh }).map(([kind, b]) => [kind, decide(a, b)]));
    return { fresh, decisions, dispose: () => tf.dispose([value, weight, w, once, kept, fresh]) };
  };

  describe('BatchMatMul with a wide right operand, as the transpose of B^T A^T', () => {
    productCases('transposed', [
      [[128, 1600], [1600, 512]], // R3D's block MLP weight gradient
      [[7, 33], [33, 130]], // row and column tails of every kernel tile
      [[1, 2048], [2048, 512]], // one row
      [[3, 1000], [1000, 6]], // N = 2M exactly
      [[1, 5, 300], [1, 300, 64]], // a batch of one
    ]);

    it('leaves to tfjs variables, kept transposes, operands under 16 KB or under twice as wide as A is tall, batched and transposed products', () => {
      const a = tf.randomNormal([16, 1024], 0, 1, 'float32', 7);
      const { fresh, decisions, dispose } = operands(1024, 128, 8);
      expect(decisions((x, y) => multipliesTransposed(x, y, false, false, tf.backend()), a)).toEqual({ value: false, kept: false, once: true, fresh: true });
      expect(multipliesTransposed(tf.slice(a, [0, 0], [65, 1024]), fresh, false, false, tf.backend())).toBe(false); // 128 < 2 x 65
      expect(multipliesTransposed(tf.slice(a, [0, 0], [16, 16]), tf.slice(fresh, [0, 0], [16, 128]), false, false, tf.backend())).toBe(false); // 8 KB
      expect(multipliesTransposed(tf.reshape(a, [2, 8, 1024]), fresh, false, false, tf.backend())).toBe(false);
      expect(multipliesTransposed(a, fresh, true, false, tf.backend())).toBe(false);
      expect(multipliesTransposed(a, fresh, false, true, tf.backend())).toBe(false);
      expect(multipliesTransposed(tf.cast(a, 'int32'), tf.cast(fresh, 'int32'), false, false, tf.backend())).toBe(false);
      tf.dispose(a);
      dispose();
    });
  });

  describe('BatchMatMul with a large right operand, packed a block of columns at a time', () => {
    productCases('by columns', [
      [[80, 8192], [8192, 128]], // four whole blocks
      [[40, 16384], [16384, 70]], // 32 + 32 + 6 columns
      [[1, 90, 8192], [1, 8192, 160]], // a batch of one
    ]);

    it("times a shape's first four products split and whole, keeps the faster, and every product has tfjs's bits", () => {
      const a = tf.randomNormal([72, 8192], 0, 1, 'float32', 7); // 128 < 2 x 72 columns: not the transposed way
      const trials = () => splitTrialsOf(tf.backend()).get('72x8192x128');
      const before = [tf.memory().numTensors, tf.memory().numBytes];
      const ways: Array<[number, number]> = [];
      for (let call = 0; call < 6; call++) {
        const b = tf.randomNormal([8192, 128], 0, 1, 'float32', 10 + call); // fresh each call, as a training step's
        expect(packsByColumns(a, b, false, false, tf.backend())).toBe(true);
        const have = tf.matMul(a, b);
        const want = tfjs(a, b);
        expect(bits(have)).toEqual(bits(want));
        tf.dispose([have, want, b]);
        ways.push([trials()!.split.length, trials()!.whole.length]);
      }
      // split, whole, split, whole; then nothing more is timed
      expect(ways).toEqual([[1, 0], [1, 1], [2, 1], [2, 2], [2, 2], [2, 2]]);
      const { split, whole, kept } = trials()!;
      expect(kept).toBe(Math.min(...split) < Math.min(...whole));
      expect([tf.memory().numTensors, tf.memory().numBytes]).toEqual(before);
      tf.dispose(a);
    });

    it('leaves to tfjs (whose packing then lasts) variables, kept transposes, small, batched and transposed products', () => {
      const a = tf.randomNormal([4, 8192], 0, 1, 'float32', 3);
      const { fresh, decisions, dispose } = operands(8192, 128, 4);
      expect(decisions((x, y) => packsByColumns(x, y, false, false, tf.backend()), a)).toEqual({ value: false, kept: false, once: true, fresh: true });
      expect(packsByColumns(a, tf.slice(fresh, [0, 0], [8192, 32]), false, false, tf.backend())).toBe(false);
      expect(packsByColumns(a, tf.slice(fresh, [0, 0], [4096, 128]), false, false, tf.backend())).toBe(false); // 2 MB
      expect(packsByColumns(tf.reshape(a, [2, 2, 8192]), fresh, false, false, tf.backend())).toBe(false);
      expect(packsByColumns(a, fresh, false, true, tf.backend())).toBe(false);
      tf.dispose(a);
      dispose();
    });
  });
});

/** How many elements of two float32 results differ in their bits (a NaN matches any NaN). */
function bitsDiffer(have: tf.TypedArray, want: tf.TypedArray): number {
  const a = new Uint32Array(Float32Array.from(have).buffer);
  const b = new Uint32Array(Float32Array.from(want).buffer);
  let differ = a.length === b.length ? 0 : Math.max(a.length, b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i] && !(Number.isNaN(have[i]) && Number.isNaN(want[i]))) differ++;
  return differ;
}

/** Floats every kind of path of expf and erff takes: a stride through all 2^32 bit patterns, and their edges. */
function everyKindOfFloat(stride: number): Float32Array {
  const edges = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 1.1754942e-38, 2 ** -28, -(2 ** -28), 2 ** -14, 0.84375, -0.84375, 1.25, -1.25,
    1 / 0.35, -1 / 0.35, 6, -6, 88, -88, 88.72283, 88.72284, -87.33655, -103.97208, -103.97209, 0.5 * Math.LN2, 1.5 * Math.LN2];
  const bits = new Uint32Array(Math.ceil(2 ** 32 / stride) + 2 * edges.length);
  let n = 0;
  for (let b = 0; b < 2 ** 32; b += stride) bits[n++] = b;
  const out = new Float32Array(bits.buffer, 0, n + 2 * edges.length);
  for (const e of edges) {
    out[n++] = e;
    // and the float just above each (in magnitude)
    out[n] = e;
    bits[n] = (bits[n]! + 1) >>> 0;
    n++;
  }
  return out;
}

describe('wasm Exp, Erf, GELU and LayerNorm (heap-kernels.wat) give tfjs-backend-wasm\'s bits', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });

  it('reads the exp2f table tfjs-backend-wasm\'s binaries hold (each beside expf\'s shift and 32 / ln 2)', () => {
    const dir = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json').replace(/package\.json$/, 'wasm-out/');
    const marker = Buffer.alloc(16);
    marker.writeDoubleLE(1.5 * 2 ** 52, 0);
    marker.writeDoubleLE(32 / Math.LN2, 8);
    for (const binary of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
      const bytes = readFileSync(dir + binary);
      const at = bytes.indexOf(marker);
      expect(at, binary).toBeGreaterThan(288);
      // exp2f_data: the table, shift_scaled, poly[3], then shift and invln2_scaled
      const table = Array.from({ length: 32 }, (_, i) => bytes.readBigUInt64LE(at - 288 + 8 * i));
      expect(table, binary).toEqual([...EXP2F_TABLE]);
    }
  });

  for (const [name, op, special] of [['Exp', tf.exp, 100], ['Erf', tf.erf, NaN]] as const) {
    it(`${name} of float32: the same bits as tfjs's kernel over every 499th bit pattern, infinities, NaN and each path's edges`, () => {
      const floats = everyKindOfFloat(499);
      // as they come, four at a time; with a value that sends its group of four one by one
      // through the scalar code (every fourth replaced); and a length that leaves a tail of three
      const salted = everyKindOfFloat(1997).map((v, i) => (i % 4 === 0 ? special : v));
      for (const values of [floats, salted, floats.subarray(0, 4 * 1000 + 3)]) {
        const x = tf.tensor1d(values);
        const before = tf.memory().numTensors;
        const ours = op(x);
        const theirs = tf.engine().makeTensorFromTensorInfo(tfjsWasmKernel(name)!({ inputs: { x }, backend: tf.backend(), attrs: {} }) as tf.TensorInfo);
        expect(bitsDiffer(ours.dataSync(), theirs.dataSync()), `${values.length} values`).toBe(0);
        tf.dispose([ours, theirs]);
        expect(tf.memory().numTensors).toBe(before);
        x.dispose();
      }
    });
  }

  it('Exp of int32 keeps tfjs\'s kernel (tf.erf casts to float32 first)', () => {
    const ints = tf.tensor1d([0, 1, -2, 3], 'int32');
    const ours = tf.exp(ints);
    const theirs = tf.engine().makeTensorFromTensorInfo(tfjsWasmKernel('Exp')!({ inputs: { x: ints }, backend: tf.backend(), attrs: {} }) as tf.TensorInfo);
    expect(ours.dtype).toBe(theirs.dtype);
    expect(Array.from(ours.dataSync())).toEqual(Array.from(theirs.dataSync()));
    tf.dispose([ints, ours, theirs]);
  });

  // rtf-fuser's gelu and the closed form of its gradient, composed of tf ops (its path where R3DGelu is not registered)
  const composedGelu = (x: tf.Tensor): tf.Tensor => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  const composedGeluGrad = (dy: tf.Tensor, x: tf.Tensor): tf.Tensor => {
    const cdf = tf.mul(tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))), 0.5);
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return tf.mul(dy, tf.add(cdf, tf.mul(x, pdf)));
  };

  // rtf-fuser's LayerNorm and the closed form of its gradient, composed of tf ops (its path where the kernels are not registered).
  // A copy: this package cannot import rtf-fuser (rtf-fuser tests on it); rtf-fuser's norm-activation.test.ts holds these
  // kernels to its own ops, so the two cannot drift apart unseen.
  const composedLayerNorm = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor => {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), -1, true);
    return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
  };
  const composedLayerNormGrad = (dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor, eps: number): tf.Tensor[] => {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), eps));
    const xhat = tf.mul(centred, rstd);
    const g = tf.mul(dy, gamma);
    const dx = tf.mul(rstd, tf.sub(tf.sub(g, tf.mean(g, -1, true)), tf.mul(xhat, tf.mean(tf.mul(g, xhat), -1, true))));
    const channels = (t: tf.Tensor): tf.Tensor => tf.sum(tf.reshape(t, [-1, t.shape[t.rank - 1]!]), 0);
    return [dx, channels(tf.mul(dy, xhat)), channels(dy)];
  };

  it('registers R3DLayerNorm and R3DLayerNormGrad for wasm, the composed ops\' bits on R3D\'s shapes, 3-D, column tails, one column', () => {
    expect(tf.getKernel(R3DLayerNorm, 'wasm')).toBeDefined();
    expect(tf.getKernel(R3DLayerNormGrad, 'wasm')).toBeDefined();
    const before = tf.memory().numTensors;
    for (const [shape, eps] of [[[1600, 128], 1e-5], [[8, 100, 128], 1e-5], [[5, 7], 1e-5], [[3, 1], 1e-5], [[37, 66], 1e-3]] as Array<[number[], number]>) {
      tf.tidy(() => {
        const cols = shape[shape.length - 1]!;
        const x = tf.add(tf.randomNormal(shape, 0, 3, 'float32', 11), 2);
        const gamma = tf.randomNormal([cols], 1, 0.2, 'float32', 12);
        const beta = tf.randomNormal([cols], 0, 0.2, 'float32', 13);
        const dy = tf.randomNormal(shape, 0, 1, 'float32', 14);
        const y = tf.engine().runKernel(R3DLayerNorm, { x, gamma, beta }, { epsilon: eps }) as tf.Tensor;
        expect(y.shape).toEqual(shape);
        expect(bitsDiffer(y.dataSync(), composedLayerNorm(x, gamma, beta, eps).dataSync()), `${shape}`).toBe(0);
        const grads = tf.engine().runKernel(R3DLayerNormGrad, { dy, x, gamma }, { epsilon: eps }) as tf.Tensor[];
        const want = composedLayerNormGrad(dy, x, gamma, eps);
        expect(grads.map((t) => t.shape)).toEqual([shape, [cols], [cols]]);
        for (let i = 0; i < 3; i++) expect(bitsDiffer(grads[i]!.dataSync(), want[i]!.dataSync()), `${shape} output ${i}`).toBe(0);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    const x = tf.zeros([4, 6]);
    expect(() => tf.engine().runKernel(R3DLayerNorm, { x, gamma: tf.zeros([5]), beta: tf.zeros([6]) }, { epsilon: 1e-5 })).toThrow(/gamma \[5\] must have 6 elements/);
    expect(() => tf.engine().runKernel(R3DLayerNormGrad, { dy: tf.zeros([4, 5]), x, gamma: tf.zeros([6]) }, { epsilon: 1e-5 })).toThrow(/dy \[4,5\] must have the shape of x \[4,6\]/);
    tf.dispose(x);
  });

  it('registers R3DGelu and R3DGeluGrad for wasm (selectBackend does), the composed ops\' bits over every path, a tail of three, NaN and infinities', () => {
    expect(tf.getKernel(R3DGelu, 'wasm')).toBeDefined();
    expect(tf.getKernel(R3DGeluGrad, 'wasm')).toBeDefined();
    // (4001): a ramp over [-10, 10] crosses each path's edges at 1e-5 steps of x / sqrt 2 too fine to miss
    const ramp = tf.tidy(() => tf.concat([tf.linspace(-10, 10, 3990), tf.randomNormal([8], 0, 1, 'float32', 5), tf.tensor1d([NaN, Infinity, -Infinity])]));
    const dy = tf.randomNormal([4001], 0, 1, 'float32', 6);
    const wide = tf.randomNormal([1600, 512], 0, 1, 'float32', 7);
    const dWide = tf.randomNormal([1600, 512], 0, 1, 'float32', 8);
    const before = tf.memory().numTensors;
    for (const [x, g] of [[ramp, dy], [wide, dWide]] as const) {
      tf.tidy(() => {
        const y = tf.engine().runKernel(R3DGelu, { x }) as tf.Tensor;
        expect(y.shape).toEqual(x.shape);
        expect(bitsDiffer(y.dataSync(), composedGelu(x).dataSync())).toBe(0);
        const dx = tf.engine().runKernel(R3DGeluGrad, { dy: g, x }) as tf.Tensor;
        expect(bitsDiffer(dx.dataSync(), composedGeluGrad(g, x).dataSync())).toBe(0);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => tf.engine().runKernel(R3DGeluGrad, { dy: tf.zeros([3]), x: tf.zeros([4]) })).toThrow(/dy \[3\] must have the shape of x \[4\]/);
    expect(() => tf.engine().runKernel(R3DGelu, { x: tf.zeros([3], 'int32') })).toThrow(/x must be float32, got int32/);
    tf.dispose([ramp, dy, wide, dWide]);
  });
});
