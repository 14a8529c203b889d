import * as tf from '@tensorflow/tfjs-core';
import {
  R3DGelu,
  R3DGeluGrad,
  R3DLayerNorm,
  R3DLayerNormGrad,
  type R3DGeluGradInputs,
  type R3DGeluInputs,
  type R3DLayerNormAttrs,
  type R3DLayerNormGradInputs,
  type R3DLayerNormInputs,
} from '@r3d-ts/kernel-names';
import { type WasmHeapHost, wasmExportsFor, wasmHeap } from './heap-kernels-wasm.js';
import { isVariableValue, wasmTransposeCache } from './wasm-transpose-cache.js';

// Replacements for tfjs-backend-wasm 4.22 kernels that cost an R3D step far more than their work,
// each giving tfjs's bits. Two copy kernels walk their output one element at a time through
// generic index arithmetic: `Transpose` of a (128, 19200) weight takes 50-90 ms and `Tile`, which
// every broadcast gradient and `broadcastTo` reaches, 50-90 ms for a few hundred thousand
// elements (an R3D training step spent ~0.5 s in 31 Tile calls); the replacements below are
// cache-blocked copies on the wasm heap, the transpose in SIMD (heap-kernels.wat). `Slice`,
// `SplitV`, `Identity`, `Sum` and `BatchMatMul` follow, each with its reason. Shapes a replacement
// does not cover go to tfjs's own kernel.

interface WasmBackendLike extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
  incRef(dataId: tf.DataId): void;
  /** The Emscripten module, holding the heap. */
  wasm?: WasmHeapHost & { _malloc?(bytes: number): number };
}

/** heap-kernels.wat's kernels, on byte offsets into the backend's heap. */
interface HeapKernels {
  /** `out (n, m) = x (m, n)` for 4-byte elements, whole groups of four rows and columns only. */
  transpose4(x: number, out: number, m: number, n: number, block: number): void;
  /** `out (cols)` = the float32 column sums of `x (rows, cols)`. */
  sum_rows(x: number, out: number, rows: number, cols: number): void;
  /** `out[i] = expf(x[i])` for n floats, as tfjs's Exp; `tab` is `exp2Table`'s offset. */
  exp_f32(x: number, out: number, n: number, tab: number): void;
  /** `out[i] = erff(x[i])` for n floats, as tfjs's Erf. */
  erf_f32(x: number, out: number, n: number, tab: number): void;
  /** `out = gelu(x)`, rtf-fuser's composed GELU on tfjs's kernels. */
  gelu_f32(x: number, out: number, n: number, tab: number): void;
  /** `out = gelu'(x) dy`, rtf-fuser's composed closed-form gradient on tfjs's kernels. */
  gelu_grad_f32(dy: number, x: number, out: number, n: number, tab: number): void;
  /** `out (rows, cols)` = rtf-fuser's composed LayerNorm of x over its rows. */
  layer_norm_f32(x: number, gamma: number, beta: number, out: number, rows: number, cols: number, eps: number): void;
  /** rtf-fuser's composed closed-form LayerNorm gradient; `scratch` holds 2 cols floats. */
  layer_norm_grad_f32(dy: number, x: number, gamma: number, dx: number, dgamma: number, dbeta: number, scratch: number, rows: number, cols: number, eps: number): void;
}

/** heap-kernels.wat instantiated on the backend's own heap (one instance per heap), or null (no SIMD, or a heap this build does not expose). */
function heapKernels(backend: WasmBackendLike): HeapKernels | null {
  const heap = wasmHeap(backend.wasm);
  return heap ? (wasmExportsFor(heap) as HeapKernels | null) : null;
}

type Transpose4 = HeapKernels['transpose4'];

type KernelFunc = tf.KernelConfig['kernelFunc'];

/**
 * The shape and permutation once size-1 axes are dropped and axes that stay neighbours in the
 * same order are merged: a (B, M, N) -> (B, N, M) transpose of any rank comes out as [B, M, N],
 * [0, 2, 1].
 */
export function simplifyTranspose(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = perm.filter((a) => shape[a] !== 1);
  // merge runs of consecutive input axes that stay consecutive in the output
  const runs: number[][] = [];
  for (const a of kept) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === a - 1 && kept.indexOf(a - 1) === kept.indexOf(a) - 1) last.push(a);
    else runs.push([a]);
  }
  const byInput = [...runs].sort((p, q) => p[0]! - q[0]!);
  const newShape = byInput.map((r) => r.reduce((n, a) => n * shape[a]!, 1));
  const newPerm = runs.map((r) => byInput.indexOf(r));
  return { shape: newShape, perm: newPerm };
}

/** Whether this wasm backend runs heap-kernels.wat's SIMD kernels on its heap (float32 and int32 transposes, float32 column sums; tests ask). */
export function usesHeapKernels(backend: tf.KernelBackend): boolean {
  return heapKernels(backend as WasmBackendLike) !== null;
}

/** Columns of x one pass of 8 rows covers: 8 x 256 floats read, 256 x 8 written, all in L1. */
const COLUMN_BLOCK = 256;

/**
 * out (batch, n, m) = x (batch, m, n) transposed per batch. With `simd` (4-byte elements on the
 * heap), heap-kernels.wat moves the whole groups of four rows and columns and the loops below only
 * the last m % 4 rows and n % 4 columns: the (800, 19200) depth frames in 11 ms, against 32 ms in
 * the JavaScript loops alone on the 2-core Zen 1.
 */
function transposeBatched(x: tf.TypedArray, out: tf.TypedArray, batch: number, m: number, n: number, simd: Transpose4 | null): void {
  for (let b = 0; b < batch; b++) {
    const base = b * m * n;
    if (simd && m >= 4 && n >= 4) {
      simd(x.byteOffset + 4 * base, out.byteOffset + 4 * base, m, n, COLUMN_BLOCK);
      transposeRange(x, out, base, m, n, m - (m % 4), m, 0, n);
      transposeRange(x, out, base, m, n, 0, m - (m % 4), n - (n % 4), n);
    } else transposeRange(x, out, base, m, n, 0, m, 0, n);
  }
}

/**
 * Rows [i0, i1) and columns [c0, c1) of one (m, n) matrix at `base`, transposed. Eight rows of x
 * are read side by side and written as eight neighbours of each output row: 13 ms for the
 * (800, 19200) depth frames where 16 x 16 tiles of one-element copies took 40 ms (V8 keeps the
 * eight row offsets in registers).
 */
function transposeRange(x: tf.TypedArray, out: tf.TypedArray, base: number, m: number, n: number, i0: number, i1: number, c0: number, c1: number): void {
  const i8 = i1 - ((i1 - i0) % 8);
  for (let j0 = c0; j0 < c1; j0 += COLUMN_BLOCK) {
    const j1 = Math.min(j0 + COLUMN_BLOCK, c1);
    for (let i = i0; i < i8; i += 8) {
      const r0 = base + i * n;
      const r1 = r0 + n, r2 = r1 + n, r3 = r2 + n, r4 = r3 + n, r5 = r4 + n, r6 = r5 + n, r7 = r6 + n;
      for (let j = j0; j < j1; j++) {
        const o = base + j * m + i;
        out[o] = x[r0 + j]!;
        out[o + 1] = x[r1 + j]!;
        out[o + 2] = x[r2 + j]!;
        out[o + 3] = x[r3 + j]!;
        out[o + 4] = x[r4 + j]!;
        out[o + 5] = x[r5 + j]!;
        out[o + 6] = x[r6 + j]!;
        out[o + 7] = x[r7 + j]!;
      }
    }
    for (let i = i8; i < i1; i++) {
      const row = base + i * n;
      for (let j = j0; j < j1; j++) out[base + j * m + i] = x[row + j]!;
    }
  }
}

/** Whether x's values are one typed array on the heap, element for element (not strings, not complex pairs). */
function onHeap(x: tf.TensorInfo): boolean {
  return x.dtype !== 'string' && x.dtype !== 'complex64';
}

function transposeKernel(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const perm = (args.attrs as { perm: number[] }).perm;
    const { shape, perm: p } = simplifyTranspose(x.shape, perm);
    const swap2 = p.length === 2 && p[0] === 1;
    const swapBatched = p.length === 3 && p[0] === 0 && p[1] === 2 && p[2] === 1;
    if (!onHeap(x) || !(swap2 || swapBatched)) return original(args);
    const backend = args.backend as WasmBackendLike;
    const cache = wasmTransposeCache(backend);
    const kept = cache.lookup(x, perm);
    if (kept) return kept;
    const out = backend.makeOutput(perm.map((a) => x.shape[a]!), x.dtype);
    // views after makeOutput: growing the heap detaches earlier ones
    const xs = backend.typedArrayFromHeap(x);
    const os = backend.typedArrayFromHeap(out);
    const simd = xs.BYTES_PER_ELEMENT === 4 ? (heapKernels(backend)?.transpose4 ?? null) : null;
    if (swap2) transposeBatched(xs, os, 1, shape[0]!, shape[1]!, simd);
    else transposeBatched(xs, os, shape[0]!, shape[1]!, shape[2]!, simd);
    cache.remember(x, perm, out);
    return out;
  };
}

/** Writes x tiled `reps` times into out, axis by axis: each axis's first copy is built, then repeated whole. */
function tileInto(x: tf.TypedArray, out: tf.TypedArray, shape: readonly number[], reps: readonly number[]): void {
  const rank = shape.length;
  const xStride = new Array<number>(rank);
  const oStride = new Array<number>(rank);
  let xs = 1;
  let os = 1;
  for (let d = rank - 1; d >= 0; d--) {
    xStride[d] = xs;
    oStride[d] = os;
    xs *= shape[d]!;
    os *= shape[d]! * reps[d]!;
  }
  const fill = (d: number, xOff: number, oOff: number): void => {
    const s = shape[d]!;
    const r = reps[d]!;
    if (d === rank - 1) {
      if (s === 1) {
        out.fill(x[xOff]! as never, oOff, oOff + r);
        return;
      }
      for (let k = 0; k < r; k++) {
        const base = oOff + k * s;
        for (let j = 0; j < s; j++) out[base + j] = x[xOff + j]!;
      }
      return;
    }
    for (let i = 0; i < s; i++) fill(d + 1, xOff + i * xStride[d]!, oOff + i * oStride[d]!);
    const block = s * oStride[d]!;
    for (let k = 1; k < r; k++) out.copyWithin(oOff + k * block, oOff, oOff + block);
  };
  if (x.length > 0 && out.length > 0) fill(0, 0, 0);
}

function tileKernel(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const reps = (args.attrs as { reps: number[] }).reps;
    if (!onHeap(x) || reps.length !== x.shape.length) return original(args);
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput(x.shape.map((s, d) => s * reps[d]!), x.dtype);
    tileInto(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), x.shape, reps);
    return out;
  };
}

// tfjs-backend-wasm's Identity copies the whole buffer; the engine runs it for every tensor a custom
// gradient saves (the depth input of a training step: 61 MB) and every `tf.clone`. No wasm kernel
// writes into an input, so the output can share the input's buffer under one more reference, as
// Reshape does here and Identity does on the cpu backend.
function identityKernel(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original(args);
    (args.backend as WasmBackendLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

/**
 * out = x[begin : begin + size] for any rank: the outer axes walked by an odometer, each run along
 * the last axis copied whole. Why: tfjs-backend-wasm's Slice reads x through `readSync`, which
 * copies all of x off the heap first (the (1600, 384) projection a query/key/value slice comes
 * from: 2.4 MB per slice), and its SplitV slices the whole input that way once per output.
 */
function sliceInto(x: tf.TypedArray, out: tf.TypedArray, shape: readonly number[], begin: readonly number[], size: readonly number[]): void {
  const rank = shape.length;
  const strides = [...tf.util.computeStrides(shape as number[]), 1];
  const run = size[rank - 1]!;
  const rows = out.length / run;
  const idx = new Array<number>(rank).fill(0);
  let src = tf.slice_util.computeFlatOffset(begin as number[], strides);
  for (let r = 0, dst = 0; r < rows; r++, dst += run) {
    if (run >= 32) out.set(x.subarray(src, src + run), dst);
    else for (let j = 0; j < run; j++) out[dst + j] = x[src + j]!;
    for (let d = rank - 2; d >= 0; d--) {
      src += strides[d]!;
      if (++idx[d]! < size[d]!) break;
      src -= strides[d]! * size[d]!;
      idx[d] = 0;
    }
  }
}

function sliceOnHeap(backend: WasmBackendLike, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  // views after makeOutput: growing the heap detaches earlier ones
  if (size.every((s) => s > 0)) sliceInto(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), x.shape, begin, size);
  return out;
}

function sliceKernel(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (!onHeap(x) || x.shape.length === 0) return original(args);
    const attrs = args.attrs as { begin: number | number[]; size: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin, attrs.size);
    return sliceOnHeap(args.backend as WasmBackendLike, x, begin, size);
  };
}

function splitVKernel(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (!onHeap(x) || x.shape.length === 0) return original(args);
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const a = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, a);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[a] = s;
      const out = sliceOnHeap(args.backend as WasmBackendLike, x, begin.slice(), size);
      begin[a]! += s;
      return out;
    });
  };
}

// tfjs-backend-wasm's Sum reduces innermost axes only and transposes x first for any other, with
// its own transpose: the bias gradients of a training step (sums over the leading axes of
// (1600, 512), (8, 100, 128), ...) spent ~20 ms in 81 calls; (1600, 512) over its rows took 2.3 ms.
// Leading axes are summed in place by heap-kernels.wat (0.23 ms there): every column from +0, top
// to bottom, in f32 additions, which is tfjs's order of additions, so the same bits; and zeros
// where there are no rows, where tfjs's leaves the output unwritten.
function sumKernel(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const backend = args.backend as WasmBackendLike;
    const simd = heapKernels(backend);
    if (!simd || x.dtype !== 'float32' || rank < 2) return original(args);
    // in the order given: tfjs sums the reduced axes in that order, so [1, 0] is another order of additions
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const k = axes.length;
    if (k === 0 || k === rank || axes.some((a, i) => a !== i)) return original(args);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, k));
    const cols = tf.util.sizeFromShape(x.shape.slice(k));
    const out = backend.makeOutput(keepDims ? [...new Array<number>(k).fill(1), ...x.shape.slice(k)] : x.shape.slice(k), 'float32');
    if (cols > 0) simd.sum_rows(heapOffset(backend, x), heapOffset(backend, out), rows, cols);
    return out;
  };
}

/** Columns of a product's right operand packed at a time when it is split (see `packsByColumns`). */
const PACK_COLUMNS = 32;
/** Right operands from this size on (bytes) are split. */
const SPLIT_BYTES = 4 << 20;

/**
 * Whether a wasm product is computed a block of `PACK_COLUMNS` columns of its right operand at a
 * time. Why: tfjs-backend-wasm hands XNNPACK the right operand B (K, N) as transposed weights, and
 * XNNPACK's packing of those reads each block of 8 columns down all K rows, a pass over the whole
 * matrix per block: past a few MB it runs from memory, not cache. R3D's depth projection
 * (B = its (19200, 128) weight transposed, 9.8 MB) spent ~40 ms a training step in that packing
 * on the 2-core Zen 1, against ~4 ms per 32-column block (2.5 MB) packed alone. Each output
 * element is the same sum over K either way (XNNPACK's kernels sum every output along all of K),
 * so the bits are the same. Not split: B a variable's value or a transpose the cache keeps
 * (tfjs keeps their packing from call to call, so it is paid once), batched or transposed
 * products, and B under SPLIT_BYTES. Where this allows a split, the kernel still times both ways
 * on a shape's first calls and keeps the faster (`splitTrialsOf`).
 */
export function packsByColumns(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, backend: tf.KernelBackend): boolean {
  const [k, n] = b.shape.slice(-2) as [number, number];
  if (!plainFloatProduct(a, b, transposeA, transposeB)) return false;
  if (n <= PACK_COLUMNS || 4 * k * n < SPLIT_BYTES) return false;
  return packedAfresh(b, backend);
}

/** Calls of one product shape timed each way (split, then whole, alternating) before the faster is kept. */
const SPLIT_TRIALS = 2;

/** The times (ms) of one product shape's calls split by columns and whole, and the way kept once both have SPLIT_TRIALS. */
export interface SplitTrials {
  split: number[];
  whole: number[];
  /** true: split by columns; false: tfjs's one product; undefined while still timing. */
  kept?: boolean;
}

/** Per backend, per product shape ('M x K x N'): the trials behind `splitsByColumns`. */
const splitTrials = new WeakMap<object, Map<string, SplitTrials>>();

// Whether a product `packsByColumns` allows is split on this machine. Splitting pays where
// XNNPACK's packing of a large B runs from memory (the depth projection: ~40 ms of packing on the
// 2-core Zen 1, 8-12% saved), but costs where the packing is cheap and each column block streams
// A again (the same product 10-18% slower split on a fifth-generation Zen). Both ways give the
// same bits, so a shape's first 2 x SPLIT_TRIALS calls alternate them, timed (a wasm kernel
// returns when done), and the way with the lower best time is kept: no product is run twice.
function splitsByColumns(trials: SplitTrials): boolean {
  if (trials.kept !== undefined) return trials.kept;
  return trials.split.length <= trials.whole.length;
}

/** Records one timed call of a shape's product; keeps the faster way once both ways have SPLIT_TRIALS times. */
function recordSplitTrial(trials: SplitTrials, split: boolean, ms: number): void {
  if (trials.kept !== undefined) return;
  (split ? trials.split : trials.whole).push(ms);
  if (trials.split.length >= SPLIT_TRIALS && trials.whole.length >= SPLIT_TRIALS) trials.kept = Math.min(...trials.split) < Math.min(...trials.whole);
}

/**
 * What the wasm backend chose for each product it may split by columns (`packsByColumns`), by
 * shape 'M x K x N': the times of its first calls each way and the way kept. A shape's first four
 * calls alternate split and whole products (the same bits), and the faster is kept from then on,
 * since which one wins depends on the CPU's caches and memory.
 *
 * @example
 * const trials = splitTrialsOf(tf.backend()).get('800x19200x128');
 * console.log(trials?.kept === undefined ? 'still timing' : trials.kept ? 'split' : "tfjs's one product");
 */
export function splitTrialsOf(backend: tf.KernelBackend): ReadonlyMap<string, Readonly<SplitTrials>> {
  return splitTrials.get(backend) ?? new Map();
}

function trialsFor(backend: object, m: number, k: number, n: number): SplitTrials {
  let byShape = splitTrials.get(backend);
  if (!byShape) splitTrials.set(backend, (byShape = new Map()));
  const key = `${m}x${k}x${n}`;
  let trials = byShape.get(key);
  if (!trials) byShape.set(key, (trials = { split: [], whole: [] }));
  return trials;
}

/** A float32 product of two matrices (or batches of one), neither transposed: what XNNPACK runs for tfjs-backend-wasm. */
function plainFloatProduct(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): boolean {
  if (transposeA || transposeB || a.dtype !== 'float32' || b.dtype !== 'float32') return false;
  return tf.util.sizeFromShape(a.shape.slice(0, -2)) === 1 && tf.util.sizeFromShape(b.shape.slice(0, -2)) === 1;
}

/** Whether XNNPACK packs right operand b again in this product: not a variable's value nor a kept transpose, whose packing tfjs keeps. */
function packedAfresh(b: tf.TensorInfo, backend: tf.KernelBackend): boolean {
  return !isVariableValue(b.dataId) && !wasmTransposeCache(backend as unknown as WasmBackendLike).holds(b.dataId);
}

/** Right operands under this size (bytes) are multiplied as they are: three transposes would cost more than their packing. */
const MIN_TRANSPOSED_BYTES = 16 << 10;

/**
 * Whether a wasm product A (M, K) x B (K, N) is computed as the transpose of B^T A^T. Why: the
 * packing tfjs-backend-wasm asks of XNNPACK (B as transposed weights, see `packsByColumns`) reads
 * B down its K rows once per block of 8 columns, several times slower than a copy, and the
 * product repacks every fresh B. Where B is at least twice as wide as A is tall, packing A^T
 * (K x M) instead, after SIMD transposes of A and B (and of the product back), is the faster way:
 * R3D's block MLP weight gradient, (128, 1600) x (1600, 512), took 10.6 ms as one product and
 * 7.4 ms this way on the 2-core Zen 1, a (64, 128) x (128, 512) decoder product 0.76 and 0.56 ms;
 * with N = M it is 12% slower, so it is not used there. Each element of the product is the same
 * sum over K either way (XNNPACK's kernels sum every output along K in order, and a * b is b * a
 * bit for bit), so the bits are the same. Not used: B a variable's value or a kept transpose
 * (tfjs keeps their packing), batched or transposed products, and B under MIN_TRANSPOSED_BYTES.
 */
export function multipliesTransposed(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, backend: tf.KernelBackend): boolean {
  if (!plainFloatProduct(a, b, transposeA, transposeB)) return false;
  const m = a.shape[a.shape.length - 2]!;
  const [k, n] = b.shape.slice(-2) as [number, number];
  if (m < 1 || n < 2 * m || 4 * k * n < MIN_TRANSPOSED_BYTES) return false;
  return packedAfresh(b, backend);
}

/** x (m, n), on the heap, transposed into a new float32 tensor of `shape` ((n, m), or with leading 1s). */
function transposedOnHeap(backend: WasmBackendLike, x: tf.TensorInfo, m: number, n: number, shape: number[] = [n, m]): tf.TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  // views after makeOutput: growing the heap detaches earlier ones
  transposeBatched(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), 1, m, n, heapKernels(backend)?.transpose4 ?? null);
  return out;
}

/** out[r, c0 + c] = x[r, c] for r < rows, c < width: a block of columns written into a (rows, n) matrix. */
function writeColumns(x: tf.TypedArray, out: tf.TypedArray, rows: number, n: number, c0: number, width: number): void {
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * width, (r + 1) * width), r * n + c0);
}

function batchMatMulKernel(original: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as WasmBackendLike;
    const transposed = multipliesTransposed(a, b, transposeA, transposeB, backend);
    if (!transposed && !packsByColumns(a, b, transposeA, transposeB, backend)) return original(args);
    const n = b.shape[b.shape.length - 1]!;
    const [m, k] = a.shape.slice(-2) as [number, number];
    if (!transposed) {
      const trials = trialsFor(backend, m, k, n);
      const split = splitsByColumns(trials);
      const t0 = performance.now();
      const out = split ? byColumns(original, args, backend, a, b, m, n) : original(args);
      recordSplitTrial(trials, split, performance.now() - t0); // a no-op once a way is kept
      return out;
    }
    const at = transposedOnHeap(backend, a, m, k);
    const bt = transposedOnHeap(backend, b, k, n);
    const product = original({ ...args, inputs: { a: bt, b: at } }) as tf.TensorInfo; // (n, m) = B^T A^T
    backend.disposeData(at.dataId);
    backend.disposeData(bt.dataId);
    const out = transposedOnHeap(backend, product, n, m, productShape(a, b, m, n));
    backend.disposeData(product.dataId);
    return out;
  };
}

function productShape(a: tf.TensorInfo, b: tf.TensorInfo, m: number, n: number): number[] {
  return [...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
}

/** A x B as PACK_COLUMNS-column blocks of B, each one tfjs product written into its columns of the output (see `packsByColumns`). */
function byColumns(original: KernelFunc, args: Parameters<KernelFunc>[0], backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, m: number, n: number): tf.TensorInfo {
  const out = backend.makeOutput(productShape(a, b, m, n), 'float32');
  const last = b.shape.length - 1;
  for (let c0 = 0; c0 < n; c0 += PACK_COLUMNS) {
    const width = Math.min(PACK_COLUMNS, n - c0);
    const block = sliceOnHeap(backend, b, b.shape.map((_, i) => (i === last ? c0 : 0)), b.shape.map((s, i) => (i === last ? width : s)));
    const part = original({ ...args, inputs: { a, b: block } }) as tf.TensorInfo;
    // views after the makeOutputs: growing the heap detaches earlier ones
    writeColumns(backend.typedArrayFromHeap(part), backend.typedArrayFromHeap(out), m, n, c0, width);
    backend.disposeData(block.dataId);
    backend.disposeData(part.dataId);
  }
  return out;
}

// tfjs-backend-wasm's Exp and Erf call musl's expf and erff once per element (the first through
// two more calls per element; 12-15 ns an element on the 2-core Zen 1): R3D's GELU of (1600, 512)
// spent ~35 ms of a wasm training step in its forward and backward passes, ten kernels. The
// kernels below run the same float operations in the same order four elements at a time
// (heap-kernels.wat), so the same bits; and GELU's and LayerNorm's passes as one kernel each.

/**
 * musl's exp2f_data table (ARM optimized-routines), the 32 words 2^(i/32) - (i << 47) as IEEE
 * doubles, which expf reads: the same words as in tfjs-backend-wasm's binaries (a test reads them there).
 */
export const EXP2F_TABLE = [
  0x3ff0000000000000n, 0x3fefd9b0d3158574n, 0x3fefb5586cf9890fn, 0x3fef9301d0125b51n, 0x3fef72b83c7d517bn, 0x3fef54873168b9aan,
  0x3fef387a6e756238n, 0x3fef1e9df51fdee1n, 0x3fef06fe0a31b715n, 0x3feef1a7373aa9cbn, 0x3feedea64c123422n, 0x3feece086061892dn,
  0x3feebfdad5362a27n, 0x3feeb42b569d4f82n, 0x3feeab07dd485429n, 0x3feea47eb03a5585n, 0x3feea09e667f3bcdn, 0x3fee9f75e8ec5f74n,
  0x3feea11473eb0187n, 0x3feea589994cce13n, 0x3feeace5422aa0dbn, 0x3feeb737b0cdc5e5n, 0x3feec49182a3f090n, 0x3feed503b23e255dn,
  0x3feee89f995ad3adn, 0x3feeff76f2fb5e47n, 0x3fef199bdd85529cn, 0x3fef3720dcef9069n, 0x3fef5818dcfba487n, 0x3fef7c97337b9b5fn,
  0x3fefa4afa2a490dan, 0x3fefd0765b6e4540n,
] as const;

const exp2Tables = new WeakMap<object, number>();

/** The heap offset of EXP2F_TABLE on this backend's heap (written once per heap), or null where it has no allocator. */
function exp2Table(backend: WasmBackendLike): number | null {
  const heap = wasmHeap(backend.wasm);
  if (!heap) return null;
  const known = exp2Tables.get(heap);
  if (known !== undefined) return known;
  const at = backend.wasm?._malloc?.(8 * EXP2F_TABLE.length);
  if (!at) return null;
  new BigUint64Array(heap.buffer, at, EXP2F_TABLE.length).set(EXP2F_TABLE);
  exp2Tables.set(heap, at);
  return at;
}

/** The heap kernels and the exp table, where both are there. */
function mathKernels(backend: WasmBackendLike): { simd: HeapKernels; tab: number } | null {
  const simd = heapKernels(backend);
  const tab = simd ? exp2Table(backend) : null;
  return simd && tab !== null ? { simd, tab } : null;
}

/** The byte offset of t's values on the heap: it stays valid when the heap grows (a view does not). */
function heapOffset(backend: WasmBackendLike, t: tf.TensorInfo): number {
  return backend.typedArrayFromHeap(t).byteOffset;
}

/** A new float32 tensor shaped as x, written by `run` from the heap offsets of x and of it (not run for an empty x). */
function mapOnHeap(backend: WasmBackendLike, x: tf.TensorInfo, run: (x: number, out: number, n: number) => void): tf.TensorInfo {
  const out = backend.makeOutput([...x.shape], 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  if (n > 0) run(heapOffset(backend, x), heapOffset(backend, out), n);
  return out;
}

/** A float32 map of x, element by element, on the heap; tfjs's kernel for other dtypes or without SIMD. */
function elementwiseKernel(original: KernelFunc, run: (k: HeapKernels, x: number, out: number, n: number, tab: number) => void): KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const backend = args.backend as WasmBackendLike;
    const math = x.dtype === 'float32' ? mathKernels(backend) : null;
    if (!math) return original(args);
    return mapOnHeap(backend, x, (xs, out, n) => run(math.simd, xs, out, n, math.tab));
  };
}

function requireFloat32(kernel: string, inputs: Record<string, tf.TensorInfo>): void {
  for (const [name, t] of Object.entries(inputs)) {
    if (t.dtype !== 'float32') throw new TypeError(`${kernel}: input ${name} must be float32, got ${t.dtype}`);
  }
}

/** A gradient's dy must have the shape of the input x it comes back to. */
function requireShapeOfX(kernel: string, dy: tf.TensorInfo, x: tf.TensorInfo): void {
  if (!tf.util.arraysEqual(dy.shape, x.shape)) throw new RangeError(`${kernel}: dy [${dy.shape}] must have the shape of x [${x.shape}]`);
}

/** LayerNorm's rows and channels: x (..., C) with each of `params` (gamma, beta) of C elements. */
function layerNormShape(kernel: string, x: tf.TensorInfo, params: Record<string, tf.TensorInfo>): { rows: number; cols: number } {
  const cols = x.shape[x.shape.length - 1] ?? 1;
  for (const [name, t] of Object.entries(params)) {
    if (tf.util.sizeFromShape(t.shape) !== cols) throw new RangeError(`${kernel}: ${name} [${t.shape}] must have ${cols} elements (the last axis of x [${x.shape}])`);
  }
  return { rows: cols > 0 ? tf.util.sizeFromShape(x.shape) / cols : 0, cols };
}

/**
 * Registers the fused kernels of @r3d-ts/kernel-names that @r3d-ts/rtf-fuser asks for (`R3DGelu`,
 * `R3DGeluGrad`, `R3DLayerNorm`, `R3DLayerNormGrad`) for tfjs's wasm backend where it runs
 * heap-kernels.wat (WebAssembly SIMD): each the float32 operations of rtf-fuser's composed GELU or
 * LayerNorm, or of their closed-form gradients, on tfjs's wasm kernels, in one pass, so the same
 * bits. rtf-fuser takes them wherever they are registered. Returns whether they are. Called by
 * `selectBackend` once the wasm backend has started.
 *
 * @example
 * await tf.setBackend('wasm');
 * registerWasmFusedKernels(tf.backend()); // true: gelu(x) and layerNorm(x, g, b) now run one kernel each way
 */
export function registerWasmFusedKernels(backend: tf.KernelBackend): boolean {
  if (!mathKernels(backend as WasmBackendLike)) return false;
  if (tf.getKernel(R3DGelu, 'wasm')) return true;
  type Args<I, A = unknown> = { inputs: I; backend: WasmBackendLike; attrs: A };
  const gelu = ({ inputs: { x }, backend: b }: Args<R3DGeluInputs>): tf.TensorInfo => {
    requireFloat32(R3DGelu, { x });
    const { simd, tab } = mathKernels(b)!;
    return mapOnHeap(b, x, (xs, out, n) => simd.gelu_f32(xs, out, n, tab));
  };
  const geluGrad = ({ inputs: { dy, x }, backend: b }: Args<R3DGeluGradInputs>): tf.TensorInfo => {
    requireFloat32(R3DGeluGrad, { dy, x });
    requireShapeOfX(R3DGeluGrad, dy, x);
    const { simd, tab } = mathKernels(b)!;
    return mapOnHeap(b, x, (xs, out, n) => simd.gelu_grad_f32(heapOffset(b, dy), xs, out, n, tab));
  };
  const layerNorm = ({ inputs: { x, gamma, beta }, backend: b, attrs }: Args<R3DLayerNormInputs, R3DLayerNormAttrs>): tf.TensorInfo => {
    requireFloat32(R3DLayerNorm, { x, gamma, beta });
    const { rows, cols } = layerNormShape(R3DLayerNorm, x, { gamma, beta });
    return mapOnHeap(b, x, (xs, out) => heapKernels(b)!.layer_norm_f32(xs, heapOffset(b, gamma), heapOffset(b, beta), out, rows, cols, attrs.epsilon));
  };
  const layerNormGrad = ({ inputs: { dy, x, gamma }, backend: b, attrs }: Args<R3DLayerNormGradInputs, R3DLayerNormAttrs>): tf.TensorInfo[] => {
    requireFloat32(R3DLayerNormGrad, { dy, x, gamma });
    requireShapeOfX(R3DLayerNormGrad, dy, x);
    const { rows, cols } = layerNormShape(R3DLayerNormGrad, x, { gamma });
    const dx = b.makeOutput([...x.shape], 'float32');
    const dgamma = b.makeOutput([cols], 'float32');
    const dbeta = b.makeOutput([cols], 'float32');
    const scratch = b.makeOutput([2 * cols], 'float32');
    const at = (t: tf.TensorInfo): number => heapOffset(b, t);
    heapKernels(b)!.layer_norm_grad_f32(at(dy), at(x), at(gamma), at(dx), at(dgamma), at(dbeta), at(scratch), rows, cols, attrs.epsilon);
    b.disposeData(scratch.dataId);
    return [dx, dgamma, dbeta];
  };
  for (const [kernelName, kernelFunc] of [[R3DGelu, gelu], [R3DGeluGrad, geluGrad], [R3DLayerNorm, layerNorm], [R3DLayerNormGrad, layerNormGrad]] as const) {
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc });
  }
  return true;
}

const replaced = new Set<string>();
const originals = new Map<string, KernelFunc>();

/** tfjs-backend-wasm's own kernel that `registerWasmKernels` replaced (tests compare the two). */
export function tfjsWasmKernel(name: string): KernelFunc | undefined {
  return originals.get(name);
}

/**
 * Replaces tfjs-backend-wasm's `Transpose` (2-D and batched 2-D swaps, after size-1 axes are
 * dropped and neighbouring axes merged) and `Tile` kernels with cache-blocked copies on the wasm
 * heap, the same values 5-50x faster at R3D's shapes (other transposes keep tfjs's kernel),
 * `Slice` and `SplitV` with copies that read the input on the heap instead of copying all of it
 * off first, `Identity` with one that shares its input's buffer instead of copying it, `Sum`
 * over leading axes with one that needs no transpose, and `BatchMatMul` with one that multiplies
 * by a wide right operand as the transposed product (`multipliesTransposed`) and packs a large
 * one a block of columns at a time (`packsByColumns`), and float32 `Exp` and `Erf` with SIMD
 * copies of musl's expf and erff; the same bits as tfjs's.
 * Idempotent; called by `selectBackend` when it loads the wasm backend.
 *
 * @example
 * await import('@tensorflow/tfjs-backend-wasm');
 * registerWasmKernels();
 */
export function registerWasmKernels(): void {
  for (const [name, make] of [
    [tf.Transpose, transposeKernel],
    [tf.Tile, tileKernel],
    [tf.Identity, identityKernel],
    [tf.Slice, sliceKernel],
    [tf.SplitV, splitVKernel],
    [tf.Sum, sumKernel],
    [tf.BatchMatMul, batchMatMulKernel],
    [tf.Exp, (original: KernelFunc) => elementwiseKernel(original, (k, x, out, n, tab) => k.exp_f32(x, out, n, tab))],
    [tf.Erf, (original: KernelFunc) => elementwiseKernel(original, (k, x, out, n, tab) => k.erf_f32(x, out, n, tab))],
  ] as const) {
    if (replaced.has(name)) continue;
    const config = tf.getKernel(name, 'wasm');
    if (!config) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...config, kernelFunc: make(config.kernelFunc) });
    originals.set(name, config.kernelFunc);
    replaced.add(name);
  }
}
