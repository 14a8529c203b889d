// The wasm kernels `registerWasmKernels` installs against tfjs-backend-wasm's own, on R3D's
// shapes, alternated in one process after a warm-up (wasm code runs in V8's baseline tier until
// its optimised code is ready), medians of 40. Both give the same bits (src/wasm-kernels.test.ts);
// this prints only their speed.
//   pnpm --filter @r3d-ts/backend bench      (R3D_WASM_THREADS=1 for tfjs's single-threaded binary)
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/select-backend.js';
import { multipliesTransposed, packsByColumns, splitTrialsOf, tfjsWasmKernel } from '../src/wasm-kernels.js';

await selectBackend({ backend: 'wasm' });
const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
console.log(`tfjs-backend-wasm, ${getThreadsCount()} thread(s)`);

interface Case {
  name: string;
  kernel: string;
  inputs: () => Record<string, tf.Tensor>;
  attrs: Record<string, unknown>;
  /** How ours runs it (what it replaces in tfjs's kernel). */
  how: (inputs: Record<string, tf.Tensor>) => string;
  /** What the kernel chose by timing, once the case has run (the split products). */
  chose?: () => string;
  /** Ours, through the registered kernel. */
  ours: (inputs: Record<string, tf.Tensor>) => tf.Tensor;
  /** Floating-point operations of one call (products: 2 m k n). */
  flops?: number;
}

const product = (name: string, m: number, k: number, n: number, kept = false): Case => {
  const a = tf.randomNormal([m, k], 0, 1, 'float32', 1);
  const b = tf.randomNormal([k, n], 0, 1, 'float32', 2);
  const weight = kept ? tf.variable(b) : null;
  return {
    name: `${name}, (${m}, ${k}) x (${k}, ${n})`,
    kernel: 'BatchMatMul',
    flops: 2 * m * k * n,
    // a fresh right operand each time, as a training step's: no packing kept from an earlier call;
    // or a variable's value, whose packing tfjs keeps (an evaluation's weights)
    inputs: (): Record<string, tf.Tensor> => (weight ? { a, w: weight } : { a, b: tf.add(b, 0) }),
    attrs: { transposeA: false, transposeB: false },
    how: ({ a: x, b: y, w }) =>
      multipliesTransposed(x!, (y ?? w)!, false, false, tf.backend()) ? 'as the transpose of B^T A^T' : packsByColumns(x!, (y ?? w)!, false, false, tf.backend()) ? '32 columns of B at a time, or whole, timed' : "tfjs's",
    ours: ({ a: x, b: y, w }) => tf.matMul(x!, (y ?? w)!),
    chose: weight ? undefined : () => {
      const trials = splitTrialsOf(tf.backend()).get(`${m}x${k}x${n}`);
      if (trials?.kept === undefined) return '';
      const best = (xs: number[]) => Math.min(...xs).toFixed(1);
      return `: kept ${trials.kept ? 'split' : "tfjs's one product"} (best of its first calls: split ${best(trials.split)} ms, whole ${best(trials.whole)} ms)`;
    },
  };
};

const depthFrames = tf.randomNormal([800, 19200], 0, 1, 'float32', 3);
const rows = tf.randomNormal([1600, 512], 0, 1, 'float32', 4);
const halfSquares = tf.mul(tf.square(rows), -0.5);
const scaled = tf.mul(rows, Math.SQRT1_2);
const cases: Case[] = [
  { name: 'transpose of the depth frames, (800, 19200)', kernel: 'Transpose', inputs: () => ({ x: depthFrames }), attrs: { perm: [1, 0] }, how: () => 'SIMD on the heap', ours: ({ x }) => tf.transpose(x!) },
  // GELU's gradient takes exp of -x^2 / 2 and erf of x / sqrt 2 at the block MLP's (1600, 512)
  { name: 'exp of -x^2 / 2, (1600, 512)', kernel: 'Exp', inputs: () => ({ x: halfSquares }), attrs: {}, how: () => 'SIMD on the heap', ours: ({ x }) => tf.exp(x!) },
  { name: 'erf of x / sqrt 2, (1600, 512)', kernel: 'Erf', inputs: () => ({ x: scaled }), attrs: {}, how: () => 'SIMD on the heap', ours: ({ x }) => tf.erf(x!) },
  { name: 'bias gradient, sum of (1600, 512) over rows', kernel: 'Sum', inputs: () => ({ x: rows }), attrs: { axis: [0], keepDims: false }, how: () => 'SIMD on the heap', ours: ({ x }) => tf.sum(x!, 0) },
  product('block MLP weight gradient', 128, 1600, 512),
  product('decoder feed-forward', 64, 128, 512),
  product('decoder query projection (evaluation)', 8, 128, 384),
  product('segmentation head weight gradient', 20, 800, 128),
  product('same width: block weight gradient', 128, 1600, 128),
  product('depth projection, fresh weight', 800, 19200, 128),
  product('depth projection, kept weight', 800, 19200, 128, true),
];

const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
console.log('| kernel | ours, ms | tfjs, ms | ours / tfjs | ours runs it | ours, GFLOP/s |');
console.log('|---|---|---|---|---|---|');
for (const c of cases) {
  const tfjs = tfjsWasmKernel(c.kernel);
  if (!tfjs) throw new Error(`${c.kernel} is not replaced on this backend`);
  const theirs = ({ w, ...inputs }: Record<string, tf.Tensor>) =>
    tf.engine().makeTensorFromTensorInfo(tfjs({ inputs: w ? { ...inputs, b: w } : inputs, backend: tf.backend(), attrs: c.attrs as tf.NamedAttrMap }) as tf.TensorInfo);
  const times = { ours: [] as number[], tfjs: [] as number[] };
  let how = '';
  for (let i = 0; i < 60; i++) {
    for (const side of i % 2 ? (['ours', 'tfjs'] as const) : (['tfjs', 'ours'] as const)) {
      const inputs = c.inputs();
      if (!how) how = c.how(inputs);
      const t0 = performance.now();
      // wasm kernels are synchronous: the output is written when the op returns (no read-back timed)
      const out = side === 'ours' ? c.ours(inputs) : theirs(inputs);
      const ms = performance.now() - t0;
      if (i >= 20) times[side].push(ms); // the first 20 warm the code up
      out.dispose();
      for (const [name, t] of Object.entries(inputs)) if (name === 'b') t.dispose();
    }
  }
  const [ours, theirsMs] = [median(times.ours), median(times.tfjs)];
  const rate = c.flops ? (c.flops / ours / 1e6).toFixed(0) : '';
  console.log(`| ${c.name} | ${ours.toFixed(2)} | ${theirsMs.toFixed(2)} | ${(ours / theirsMs).toFixed(2)}x | ${how}${c.chose?.() ?? ''} | ${rate} |`);
}
