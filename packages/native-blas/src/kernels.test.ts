import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { R3DAdamW, R3DGelu, R3DGeluGrad, R3DLayerNorm, R3DLayerNormGrad, type R3DAdamWAttrs } from '@r3d-ts/kernel-names';
import { getBlasThreads, NATIVE_BLAS, NativeBlasBackend, nativeBlasStatus, registerNativeBlasBackend, setBlasThreads } from './index.js';

// Under CI the addon must have built (CI installs libopenblas-dev): run and fail with the reason.
const available = nativeBlasStatus().available || process.env.CI === 'true';

/** Runs `f` on cpu and on native-blas with the same inputs and compares to 1e-5 relative. */
async function agree(f: () => tf.Tensor | tf.Tensor[], tol = 1e-5): Promise<void> {
  await tf.setBackend('cpu');
  const expected = tf.tidy(() => [f()].flat().map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) })));
  await tf.setBackend(NATIVE_BLAS);
  const before = tf.memory().numTensors;
  const actual = tf.tidy(() => [f()].flat().map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) })));
  expect(tf.memory().numTensors).toBe(before);
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect(a.shape).toEqual(e.shape);
    // loops, not Math.max(...array): the spread overflows the stack past ~10^5 elements
    const scale = e.data.reduce((m, v) => (Number.isNaN(v) ? m : Math.max(m, Math.abs(v))), 1);
    // NaN must come out exactly where cpu gives NaN.
    const diff = (v: number, w: number) => (Number.isNaN(v) || Number.isNaN(w) ? (Number.isNaN(v) && Number.isNaN(w) ? 0 : Infinity) : Math.abs(v - w));
    const worst = a.data.reduce((m, v, j) => Math.max(m, diff(v, e.data[j]!) / scale), 0);
    expect(worst, `output ${i} (shape ${e.shape})`).toBeLessThan(tol);
  });
}

// Inputs built with a fixed seed inside each closure, so both backends see the same numbers.
const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

describe.skipIf(!available)('native-blas kernels agree with cpu', () => {
  beforeAll(() => registerNativeBlasBackend());

  it.each([
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ])('matMul 2-D, transposeA=%s transposeB=%s', async (ta, tb) => {
    await agree(() => tf.matMul(rand(ta ? [37, 23] : [23, 37], 1), rand(tb ? [19, 37] : [37, 19], 2), ta, tb));
  });

  it.each([
    [false, false],
    [true, true],
    [false, true],
    [true, false],
  ])('batched matMul with broadcast batch dims, transposeA=%s transposeB=%s', async (ta, tb) => {
    await agree(() => [
      tf.matMul(rand(ta ? [3, 9, 7] : [3, 7, 9], 3), rand(tb ? [3, 5, 9] : [3, 9, 5], 4), ta, tb),
      tf.matMul(rand(ta ? [2, 3, 9, 7] : [2, 3, 7, 9], 5), rand(tb ? [5, 9] : [9, 5], 6), ta, tb),
      tf.matMul(rand(ta ? [9, 7] : [7, 9], 7), rand(tb ? [2, 1, 5, 9] : [2, 1, 9, 5], 8), ta, tb),
      tf.matMul(rand(ta ? [2, 1, 9, 7] : [2, 1, 7, 9], 9), rand(tb ? [3, 5, 9] : [3, 9, 5], 10), ta, tb),
    ]);
  });

  it('fused matMul with bias and relu (row bias, full bias, other activations)', async () => {
    await agree(() => [
      tf.fused.matMul({ a: rand([16, 12], 11), b: rand([12, 10], 12), bias: rand([10], 13), activation: 'relu' }),
      tf.fused.matMul({ a: rand([12, 16], 14), b: rand([10, 12], 15), transposeA: true, transposeB: true, bias: rand([16, 10], 16), activation: 'relu' }),
      tf.fused.matMul({ a: rand([2, 16, 12], 17), b: rand([12, 10], 18), bias: rand([1, 10], 19), activation: 'sigmoid' }),
      tf.fused.matMul({ a: rand([16, 12], 20), b: rand([12, 10], 21), activation: 'leakyrelu', leakyreluAlpha: 0.3 }),
      tf.fused.matMul({ a: rand([16, 12], 22), b: rand([12, 10], 23), bias: rand([16, 1], 24), activation: 'elu' }),
    ]);
  });

  it('broadcasting element-wise ops, transpose, softmax, sum and mean', async () => {
    await agree(() => {
      const x = rand([4, 5, 6], 30);
      const row = rand([6], 31);
      const col = rand([4, 5, 1], 32);
      const mid = rand([5, 1], 33);
      const pos = tf.add(rand([4, 5, 6], 34), 2);
      return [
        tf.add(x, row), tf.sub(col, x), tf.mul(x, mid), tf.div(x, pos), tf.squaredDifference(x, row),
        tf.maximum(x, col), tf.minimum(row, x), tf.mul(x, 3), tf.sub(2, x), tf.add(tf.scalar(1), tf.scalar(2)),
        tf.transpose(x, [2, 0, 1]), tf.transpose(x, [1, 0, 2]), tf.transpose(tf.reshape(x, [2, 2, 5, 6]), [0, 2, 1, 3]),
        tf.softmax(x), tf.softmax(tf.mul(x, 40)),
        tf.sum(x), tf.sum(x, 0), tf.sum(x, [0, 2]), tf.sum(x, 1, true), tf.sum(x, -1),
        tf.mean(x, [1, 2]), tf.mean(x, 0, true), tf.relu(tf.sub(x, 0.2)), tf.step(x, 0.1),
      ];
    });
  });

  it('int32 sums over contiguous axes equal the cpu kernel exactly, wrapping past 2^31 as it does', async () => {
    const sums = () => {
      const x = tf.randomUniform([3, 4, 5, 6], -2e9, 2e9, 'int32', 41); // sums leave int32's range
      const counts = tf.sum(tf.oneHot(tf.tensor2d([[0, 3], [3, 3]], [2, 2], 'int32'), 5), 1);
      return [tf.sum(x), tf.sum(x, 1), tf.sum(x, [1, 2]), tf.sum(x, -1, true), tf.sum(x, 0), tf.sum(x, [0, 2]), counts];
    };
    await tf.setBackend('cpu');
    const expected = tf.tidy(() => sums().map((t) => ({ dtype: t.dtype, shape: t.shape, data: Array.from(t.dataSync()) })));
    await tf.setBackend(NATIVE_BLAS);
    const actual = tf.tidy(() => sums().map((t) => ({ dtype: t.dtype, shape: t.shape, data: Array.from(t.dataSync()) })));
    expect(actual).toEqual(expected);
    expect(expected[6]!.data).toEqual([1, 0, 0, 1, 0, 0, 0, 0, 2, 0]);
  });

  it('float32 sums are double sums in a fixed order, rounded once, on 1 and 2 threads (column blocks of 64 and their remainders; rows in 8 lanes); means divide them', () => {
    const { blas } = tf.findBackend(NATIVE_BLAS) as NativeBlasBackend;
    const threads = getBlasThreads();
    try {
      for (const [outer, mid, inner] of [[1, 800, 128], [3, 37, 200], [2, 1000, 63], [5, 9, 1], [3, 1003, 1], [1, 2, 64], [4, 1, 130], [800, 2, 128]] as const) {
        const x = Float32Array.from({ length: outer * mid * inner }, (_, i) => Math.sin(i * 12.9898) * 1e3);
        const want = new Float32Array(outer * inner);
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < inner; i++) {
            const at = (m: number) => x[(o * mid + m) * inner + i]!;
            if (inner === 1) {
              // a row (inner 1) is summed in 8 interleaved double lanes, combined pairwise, then the tail (sum_f64)
              const lane = new Array<number>(8).fill(0);
              let m = 0;
              for (; m + 8 <= mid; m += 8) for (let l = 0; l < 8; l++) lane[l]! += at(m + l);
              let acc = ((lane[0]! + lane[1]!) + (lane[2]! + lane[3]!)) + ((lane[4]! + lane[5]!) + (lane[6]! + lane[7]!));
              for (; m < mid; m++) acc += at(m);
              want[o * inner + i] = acc;
            } else {
              let acc = 0; // a double, as the kernel's: every column in row order
              for (let m = 0; m < mid; m++) acc += at(m);
              want[o * inner + i] = acc;
            }
          }
        }
        for (const n of [1, 2]) {
          setBlasThreads(n);
          const got = new Float32Array(outer * inner).fill(NaN);
          blas.sum(x, got, outer, mid, inner);
          expect(Array.from(got), `[${outer}, ${mid}, ${inner}] on ${n} thread(s)`).toEqual(Array.from(want));
          // a mean: the float32 sum divided by the count in double, rounded again
          const mean = new Float32Array(outer * inner);
          blas.sum(x, mean, outer, mid, inner, mid);
          expect(Array.from(mean), `mean of [${outer}, ${mid}, ${inner}]`).toEqual(Array.from(got, (v) => Math.fround(v / mid)));
        }
      }
    } finally {
      setBlasThreads(threads);
    }
    expect(() => blas.sum(new Float32Array(4), new Float32Array(2), 1, 2, 2, -1)).toThrow(/divisor must be a number >= 0/);
  });

  it('element-wise kernels split across threads (arrays past 2^18 elements, chunks cutting broadcast rows) match cpu', async () => {
    // 700 x 517 = 361,900 elements: six 65,536-element chunks, each starting mid-row.
    await agree(() => [
      tf.add(rand([700, 517], 31), rand([517], 32)),
      tf.mul(rand([700, 1], 33), rand([700, 517], 34)),
      tf.sub(rand([2, 350, 517], 35), rand([1, 350, 1], 36)),
      tf.div(rand([700, 517], 37), tf.add(tf.abs(rand([700, 517], 38)), 0.5)),
      tf.erf(rand([700, 517], 39)),
      tf.exp(rand([361_900], 40)),
    ]);
  });

  it('fused LayerNorm and GELU kernels match the composed ops on cpu', async () => {
    // on native-blas the fused kernel, on cpu the ops a model composes without it
    const native = () => tf.getBackend() === NATIVE_BLAS;
    const layerNorm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      native()
        ? (tf.engine().runKernel(R3DLayerNorm, { x, gamma: g, beta: b }, { epsilon: 1e-5 }) as tf.Tensor)
        : tf.add(tf.mul(tf.mul(tf.sub(x, tf.mean(x, -1, true)), tf.rsqrt(tf.add(tf.moments(x, -1, true).variance, 1e-5))), g), b);
    const gelu = (x: tf.Tensor) =>
      native() ? (tf.engine().runKernel(R3DGelu, { x }) as tf.Tensor) : tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    await agree(() => [
      layerNorm(tf.add(tf.mul(rand([3, 601, 129], 41), 4), 3), rand([129], 42), rand([129], 43)), // past 2^18: threaded rows
      layerNorm(rand([8, 128], 44), rand([128], 45), rand([128], 46)),
      gelu(tf.mul(rand([700, 517], 47), 6)),
    ]);
    await tf.setBackend(NATIVE_BLAS);
    const [x, three, four, ints] = [tf.ones([2, 4]), tf.ones([3]), tf.ones([4]), tf.ones([2], 'int32')];
    expect(() => tf.engine().runKernel(R3DLayerNorm, { x, gamma: three, beta: four }, { epsilon: 1e-5 })).toThrow(/gamma \[3\] and beta \[4\] must have 4 elements/);
    expect(() => tf.engine().runKernel(R3DGelu, { x: ints })).toThrow(/input 'x' must be float32, got int32/);
    const adamAttrs = { keep: 1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, bc2Sqrt: 1, stepSize: 1e-3 } satisfies R3DAdamWAttrs;
    expect(() => tf.engine().runKernel(R3DAdamW, { param: x, m: x, v: x, grad: four }, adamAttrs)).toThrow(`${R3DAdamW}: grad has shape [4], param has [2,4]`);
    tf.dispose([x, three, four, ints]);
  });

  it('the LayerNorm and GELU gradient kernels equal the composed gradients bit for bit, on 1 and 2 threads', async () => {
    await tf.setBackend(NATIVE_BLAS);
    // the closed forms exactly as @r3d-ts/rtf-fuser composes them where a backend lacks the kernels
    const composedLayerNormGrad = (dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor): tf.Tensor[] => {
      const mean = tf.mean(x, -1, true);
      const centred = tf.sub(x, mean);
      const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), 1e-5));
      const xhat = tf.mul(centred, rstd);
      const g = tf.mul(dy, gamma);
      const dx = tf.mul(rstd, tf.sub(tf.sub(g, tf.mean(g, -1, true)), tf.mul(xhat, tf.mean(tf.mul(g, xhat), -1, true))));
      const c = x.shape[x.rank - 1]!;
      return [dx, tf.sum(tf.reshape(tf.mul(dy, xhat), [-1, c]), 0), tf.sum(tf.reshape(dy, [-1, c]), 0)];
    };
    const composedGeluGrad = (dy: tf.Tensor, x: tf.Tensor): tf.Tensor => {
      const cdf = tf.mul(tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))), 0.5);
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return tf.mul(dy, tf.add(cdf, tf.mul(x, pdf)));
    };
    const bits = (ts: tf.Tensor[]) => ts.map((t) => ({ shape: t.shape, bytes: Buffer.from(t.dataSync().buffer).toString('base64') }));
    const before = getBlasThreads();
    const results: string[] = [];
    try {
      for (const threads of [1, 2]) {
        setBlasThreads(threads);
        // [rows, cols]: a training step's (1600 x 128, threaded), odd widths, a single row, a 3-D input
        for (const shape of [[1600, 128], [37, 45], [1, 130], [3, 50, 129]]) {
          const c = shape[shape.length - 1]!;
          tf.tidy(() => {
            const x = tf.add(tf.mul(rand(shape, 51), 3), 1);
            const dy = rand(shape, 52);
            const gamma = rand([c], 53);
            const fused = tf.engine().runKernel(R3DLayerNormGrad, { dy, x, gamma }, { epsilon: 1e-5 }) as tf.Tensor[];
            expect(fused.map((t) => t.shape)).toEqual([shape, [c], [c]]);
            const want = bits(composedLayerNormGrad(dy, x, gamma));
            expect(bits(fused), `LayerNorm gradient ${shape}, ${threads} thread(s)`).toEqual(want);
            const xg = tf.mul(rand(shape, 54), 5);
            const geluWant = bits([composedGeluGrad(dy, xg)]);
            expect(bits([tf.engine().runKernel(R3DGeluGrad, { dy, x: xg }) as tf.Tensor]), `GELU gradient ${shape}, ${threads} thread(s)`).toEqual(geluWant);
            results.push(JSON.stringify(want) + JSON.stringify(geluWant));
          });
        }
      }
    } finally {
      setBlasThreads(before);
    }
    expect(results.slice(4)).toEqual(results.slice(0, 4)); // and the thread count changes nothing
    const [x, three, ints] = [tf.ones([2, 4]), tf.ones([3]), tf.ones([2, 4], 'int32')];
    expect(() => tf.engine().runKernel(R3DLayerNormGrad, { dy: x, x, gamma: three }, { epsilon: 1e-5 })).toThrow(/gamma \[3\] must have 4 elements/);
    expect(() => tf.engine().runKernel(R3DLayerNormGrad, { dy: three, x, gamma: three }, { epsilon: 1e-5 })).toThrow(/dy \[3\] must have the shape of x \[2,4\]/);
    expect(() => tf.engine().runKernel(R3DGeluGrad, { dy: ints, x })).toThrow(/input 'dy' must be float32, got int32/);
    tf.dispose([x, three, ints]);
  });

  it('fill, zerosLike, onesLike and oneHot match cpu (float32 natively, int32 and bool through cpu; oneHot any dtype)', async () => {
    // indices out of [0, depth) give a row of offValue; int32 one-hots feed a sum and a product
    const labels = () => tf.tensor2d([[0, 19, 3], [-1, 20, 7]], [2, 3], 'int32');
    await agree(() => [
      tf.fill([70, 90], 2.5), tf.fill([3], -1e-40), tf.zerosLike(rand([64, 100], 90)), tf.onesLike(rand([5, 7], 91)),
      tf.fill([70, 90], 3, 'int32'), tf.zerosLike(tf.range(0, 5000, 1, 'int32')), tf.onesLike(tf.tensor1d([true, false], 'bool')),
      tf.oneHot(labels(), 20), tf.oneHot(labels(), 20, 2, -1, 'float32'), tf.sum(tf.oneHot(labels(), 20), 1),
      tf.mul(rand([2, 3, 20], 92), tf.oneHot(labels(), 20)), tf.oneHot(tf.mod(tf.range(0, 800, 1, 'int32'), tf.scalar(20, 'int32')), 20),
    ]);
  });

  it('where (Select) matches cpu bit for bit: float32 natively, NaN, -0 and broadcast conditions; other dtypes and shapes through cpu', async () => {
    const cases = () => {
      const x = tf.concat([rand([8, 30, 64], 70), tf.tile(tf.reshape(tf.tensor1d([NaN, -0, Infinity, -1e-40]), [1, 1, 4]), [8, 30, 1])], 2);
      const y = tf.neg(rand([8, 30, 68], 71));
      const frames = tf.less(rand([8, 30, 1], 72), 0.2); // a mask over frames, broadcast over channels as the RTF fuser's
      const ints = tf.cast(tf.mul(x, 100), 'int32');
      const half = tf.greater(rand([8, 30, 68], 75), 0);
      return [
        tf.where(tf.greater(x, y), x, y), tf.where(frames, x, tf.zerosLike(x)), tf.where(tf.less(x, 0), tf.zerosLike(x), x),
        tf.where(tf.greater(x, 0), ints, tf.zerosLike(ints)), tf.where(tf.scalar(true, 'bool'), tf.scalar(3), tf.scalar(4)),
        tf.where(tf.zeros([0, 3], 'bool'), tf.zeros([0, 3]), tf.ones([0, 3])),
        // gradients flow through both branches as on cpu
        ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.where(half, tf.square(a), tf.mul(b, 3))))([x, y]),
      ];
    };
    const bits = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => cases().map((t) => ({ shape: t.shape, dtype: t.dtype, bits: Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer)) })));
    };
    const expected = await bits('cpu');
    const before = tf.memory().numTensors;
    expect(await bits(NATIVE_BLAS)).toEqual(expected);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('int32 and empty tensors take the cpu kernels and still agree', async () => {
    await agree(() => [
      tf.matMul(tf.tensor2d([[1, 2], [3, 4]], undefined, 'int32'), tf.tensor2d([[5], [6]], undefined, 'int32')),
      tf.add(tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3, 4], 'int32')),
      tf.matMul(tf.zeros([0, 3]), tf.zeros([3, 4])),
      tf.matMul(tf.zeros([2, 0]), tf.zeros([0, 4])),
      tf.add(tf.zeros([0, 3]), tf.ones([3])),
    ]);
  });

  it('gradients through a small MLP match cpu', async () => {
    await agree(() => {
      const x = rand([8, 6], 40);
      const w1 = rand([6, 16], 41);
      const b1 = rand([16], 42);
      const w2 = rand([16, 3], 43);
      const loss = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => {
        const h = tf.fused.matMul({ a: x, b: p, bias: q, activation: 'relu' });
        const logits = tf.matMul(h, r);
        return tf.mean(tf.square(tf.sub(tf.softmax(logits), 0.25)));
      };
      return tf.grads(loss)([w1, b1, w2]);
    });
  });

  it('unary kernels (Neg, Sqrt, Rsqrt, Square, Exp, Log, Erf, Tanh, Sigmoid, ...) match cpu, NaN included', async () => {
    await agree(() => {
      // 2.5 and -0.5 exercise Round's ties-to-even; NaN must pass through every op.
      const x = tf.concat([tf.mul(rand([3, 7, 11], 50), 4), tf.tile(tf.reshape(tf.tensor1d([2.5, -0.5, 1.5, 0, NaN, -3]), [1, 1, 6]), [3, 7, 1])], 2);
      const pos = tf.add(tf.abs(x), 0.1);
      return [
        tf.neg(x), tf.sqrt(pos), tf.rsqrt(pos), tf.square(x), tf.exp(x), tf.log(pos), tf.erf(x), tf.tanh(x),
        tf.sigmoid(x), tf.abs(x), tf.floor(x), tf.ceil(x), tf.round(x), tf.relu(x), tf.relu6(x), tf.step(x, 0.3),
        tf.reciprocal(pos), tf.elu(x), tf.leakyRelu(x, 0.2), tf.log1p(pos), tf.expm1(x), tf.sign(x),
      ];
    });
  });

  it('exp, sigmoid, softmax (2e-6 relative) and erf (1e-6 absolute) follow cpu over the whole float range', async () => {
    const xs = [...Array.from({ length: 4001 }, (_, i) => -87 + (175.7 * i) / 4000), -Infinity, Infinity, NaN, -0, 1e-30];
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor1d(xs);
        return [tf.exp(x), tf.sigmoid(x), tf.erf(tf.div(x, 20)), tf.softmax(tf.reshape(tf.div(tf.slice(x, [0], [4000]), 10), [-1, 5]))].map((t) => Array.from(t.dataSync()));
      });
    };
    const expected = await run('cpu');
    const actual = await run(NATIVE_BLAS);
    actual.forEach((out, k) =>
      out.forEach((v, i) => {
        const e = expected[k]![i]!;
        if (Number.isNaN(e) || !Number.isFinite(e)) expect(v, `op ${k} at x=${xs[i]}`).toBe(e);
        // exp below ~1e-37 flushes to 0 (float32 denormals); above it: relative error
        // erf near 0 is 1 - (something near 1) in float32: an absolute bound there
        else if (k === 2) expect(Math.abs(v - e), `erf at x=${xs[i]! / 20}`).toBeLessThan(1e-6);
        else if (Math.abs(e) > 1e-37) expect(Math.abs(v - e) / Math.abs(e), `op ${k} at x=${xs[i]}`).toBeLessThan(2e-6);
      }),
    );
  });

  it('transposes large enough to be tiled match cpu', async () => {
    await agree(() => {
      const x = rand([2, 40, 33, 9], 90);
      return [
        tf.transpose(x, [0, 2, 3, 1]), tf.transpose(x, [3, 1, 2, 0]), tf.transpose(x, [2, 0, 1, 3]),
        tf.transpose(rand([37, 70], 91)), tf.transpose(rand([8, 8, 16, 100], 92), [0, 3, 1, 2]),
      ];
    });
  });

  it('slice, stridedSlice, split, unstack, concat, stack, pad and tile match cpu (float32 and int32)', async () => {
    await agree(() => {
      const x = rand([4, 5, 6], 60);
      const xi = tf.cast(tf.mul(x, 100), 'int32');
      return [
        tf.slice(x, [1, 2, 3], [2, 3, 2]), tf.slice(x, [1, 0, 0], [2, 5, 6]), tf.slice(x, [0, 0, 2], [-1, -1, 3]), tf.slice(xi, [0, 1, 1], [3, 2, 4]),
        tf.stridedSlice(x, [0, 1, 0], [4, 5, 6], [2, 2, 3]), tf.stridedSlice(x, [3, 4, 5], [0, 0, 0], [-1, -2, -1]),
        tf.stridedSlice(x, [1, 0, 0], [2, 5, 6], [1, 1, 1], 0, 0, 0, 0, 1), tf.stridedSlice(xi, [0, 0, 1], [4, 5, 6], [1, 2, 2]),
        ...tf.split(x, 3, 2), ...tf.split(x, [1, 3, 1], 1), ...tf.split(x, 2, 0), ...tf.split(xi, [2, 4], -1),
        ...tf.unstack(x, 1), ...tf.unstack(x, 2), ...tf.unstack(xi, 0),
        tf.concat([x, tf.mul(x, 2)], 0), tf.concat([x, rand([4, 2, 6], 61), rand([4, 1, 6], 62)], 1), tf.concat([x, rand([4, 5, 1], 63)], -1),
        tf.concat([xi, xi], 2), tf.concat([tf.zeros([4, 0, 6]), x], 1),
        tf.stack([x, x, tf.neg(x)], 0), tf.stack([x, tf.neg(x)], 2), tf.stack([x, tf.neg(x)], 3), tf.stack([xi, xi], 1),
        tf.pad(x, [[1, 0], [0, 2], [3, 1]]), tf.pad(x, [[0, 0], [1, 1], [0, 0]], 0.5), tf.pad(xi, [[1, 1], [0, 0], [2, 0]], 7),
        tf.tile(x, [2, 1, 3]), tf.tile(rand([3, 1], 64), [1, 4]), tf.tile(xi, [1, 2, 1]),
        // bool masks, as the RTF fuser tiles them, and a walk of three merged dimensions
        tf.tile(tf.greater(rand([8, 5, 1], 65), 0), [1, 1, 64]), tf.tile(tf.greater(x, 0), [2, 1, 3]), tf.tile(tf.less(x, 0.1), [1, 1, 1]),
      ];
    });
  });

  it('gradients through slicing, splitting, joining, padding and tiling match cpu', async () => {
    await agree(() => {
      const x = rand([4, 6, 8], 70);
      const w = rand([8], 71);
      const loss = (a: tf.Tensor, b: tf.Tensor) => {
        const [q, k, v] = tf.split(tf.mul(a, b), 3, 1);
        const parts = tf.unstack(tf.stack([q!, tf.erf(k!)], 2), 2);
        const joined = tf.concat([parts[0]!, tf.tile(parts[1]!, [1, 1, 1]), tf.slice(tf.pad(v!, [[0, 0], [0, 0], [1, 1]]), [0, 0, 1], [-1, -1, 8])], 1);
        return tf.sum(tf.square(tf.sigmoid(joined)));
      };
      return tf.grads(loss)([x, w]);
    });
  });

  it('rejects operands with mismatched inner dimensions like cpu does', async () => {
    await tf.setBackend(NATIVE_BLAS);
    expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 2]))).toThrow(/inner shapes \(3\) and \(4\)/);
  });
});

describe.skipIf(!available)('native-blas recycles kernel outputs safely', () => {
  beforeAll(async () => {
    registerNativeBlasBackend();
    await tf.setBackend(NATIVE_BLAS);
  });
  const pool = () => (tf.backend() as NativeBlasBackend).pool;

  it('reuses the arrays of disposed outputs, without growing tf.memory()', () => {
    const x = tf.randomUniform([64, 128], -1, 1, 'float32', 80);
    const step = () => tf.tidy(() => tf.sum(tf.sqrt(tf.add(tf.square(tf.mul(x, 3)), 1))).dataSync()[0]!);
    const first = step();
    const before = { tensors: tf.memory().numTensors, hits: pool().stats().hits };
    for (let i = 0; i < 5; i++) expect(step()).toBeCloseTo(first, 3);
    expect(tf.memory().numTensors).toBe(before.tensors);
    expect(pool().stats().hits).toBeGreaterThanOrEqual(before.hits + 5 * 3);
    x.dispose();
  });

  it('fills recycled arrays completely (Fill, ZerosLike, OnesLike, OneHot)', () => {
    const oneHot = () => tf.oneHot(tf.fill([64], 100, 'int32'), 100, 0, 0, 'float32'); // every index out of range: all offValue
    for (const make of [() => tf.zerosLike(tf.ones([64, 100])), () => tf.onesLike(tf.zeros([64, 100])), () => tf.fill([64, 100], 7), oneHot]) {
      tf.tidy(() => {
        tf.mul(tf.ones([64, 100]), 5); // leaves a recycled 6400-element array of 5s
      });
      const hits = pool().stats().hits;
      const value = tf.tidy(() => {
        const t = make();
        return [tf.min(t).dataSync()[0], tf.max(t).dataSync()[0]];
      });
      expect(pool().stats().hits).toBeGreaterThan(hits);
      expect(value[0]).toBe(value[1]);
      expect([0, 1, 7]).toContain(value[0]);
    }
  });

  it('never recycles an array that dataSync handed out', () => {
    const a = tf.mul(tf.ones([100, 100]), 2);
    const held = a.dataSync();
    a.dispose();
    // New outputs of the same length must not land in the array the caller still holds.
    const others = Array.from({ length: 4 }, (_, i) => tf.mul(tf.ones([100, 100]), 5 + i));
    expect(held.every((v) => v === 2)).toBe(true);
    tf.dispose(others);
  });

  it('keeps a slice valid after its source is disposed and recycled', () => {
    const src = tf.mul(tf.ones([100, 100]), 3);
    const row = tf.slice(src, [10, 0], [50, 100]); // contiguous: copied, not a view
    src.dispose();
    const others = Array.from({ length: 4 }, () => tf.mul(tf.ones([100, 100]), 9));
    expect(row.dataSync().every((v) => v === 3)).toBe(true);
    tf.dispose([row, ...others]);
  });

  it('never recycles the input of a cpu kernel that may return a view of it', () => {
    const big = tf.mul(tf.ones([100, 100]), 4);
    // Reverse runs the cpu kernel; whatever it returns must outlive its disposed input.
    const rev = tf.reverse(big, 0);
    big.dispose();
    const others = Array.from({ length: 4 }, () => tf.mul(tf.ones([100, 100]), 8));
    expect(rev.dataSync().every((v) => v === 4)).toBe(true);
    tf.dispose([rev, ...others]);
  });
});

describe.skipIf(!available)('native-blas keeps the packed panels of a weight that a long x W^T reads again', () => {
  beforeAll(async () => {
    registerNativeBlasBackend();
    await tf.setBackend(NATIVE_BLAS);
  });
  const backend = () => tf.backend() as NativeBlasBackend;
  const rowsPath = () => backend().blas.rowsPath(false, true, 300, 128, 8192);

  it('packs on the second product with the same weight, gives the same bits every time, and drops the panels with the weight', () => {
    if (!rowsPath()) return; // none of our GEMM kernels here: nothing is packed (the GEMM tests say why)
    const ids = backend().numDataIds();
    const x = tf.randomUniform([300, 8192], -1, 1, 'float32', 96);
    const w = tf.randomUniform([128, 8192], -1, 1, 'float32', 97);
    const bias = tf.randomUniform([128], -1, 1, 'float32', 98);
    const bits = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).slice().buffer);
    const first = tf.fused.matMul({ a: x, b: w, transposeB: true, bias });
    expect(backend().weightPanels.size).toBe(0); // a weight seen once (every training step's) is not packed
    const second = tf.fused.matMul({ a: x, b: w, transposeB: true, bias });
    expect(backend().weightPanels.size).toBe(1);
    const third = tf.matMul(x, w, false, true);
    const plain = tf.tidy(() => tf.matMul(x, tf.transpose(w)));
    expect(bits(second).equals(bits(first))).toBe(true);
    expect(bits(third).equals(bits(plain))).toBe(true);
    w.dispose();
    expect(backend().weightPanels.size).toBe(0);
    tf.dispose([x, bias, first, second, third, plain]);
    expect(backend().numDataIds()).toBe(ids);
  });
});

describe.skipIf(!available)('native-blas keeps repeated transposes of unchanged tensors', () => {
  beforeAll(async () => {
    registerNativeBlasBackend();
    await tf.setBackend(NATIVE_BLAS);
  });
  const backend = () => tf.backend() as NativeBlasBackend;

  it('keeps the second transpose, hands it out again, and drops it with its source', () => {
    const ids = backend().numDataIds();
    const w = tf.randomUniform([128, 600], -1, 1, 'float32', 95);
    const expected = tf.tidy(() => Array.from(tf.transpose(w).dataSync()));
    expect(backend().transposes.size).toBe(0); // a tensor transposed once is not kept
    const a = tf.transpose(w);
    expect(backend().transposes.size).toBe(1);
    const b = tf.transpose(w);
    const c = tf.transpose(w, [0, 1]); // another permutation is computed, not served from the cache
    expect(Array.from(b.dataSync())).toEqual(expected);
    expect(Array.from(a.dataSync())).toEqual(expected);
    expect(c.shape).toEqual([128, 600]);
    w.dispose();
    expect(backend().transposes.size).toBe(0);
    expect(Array.from(b.dataSync())).toEqual(expected); // outlives its source
    tf.dispose([a, b, c]);
    expect(backend().numDataIds()).toBe(ids);
  });

  it('serves the same numbers as a fresh transpose through a linear layer gradient', async () => {
    await agree(() => {
      const x = rand([300, 256], 96);
      const w = rand([128, 256], 97);
      const f = (v: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, tf.transpose(v))));
      return [tf.matMul(x, tf.transpose(w)), tf.matMul(x, tf.transpose(w)), tf.matMul(x, tf.transpose(w)), ...tf.grads(f)([w])];
    });
  });
});
