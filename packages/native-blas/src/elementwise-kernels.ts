import {
  Abs,
  Add,
  Ceil,
  Elu,
  Erf,
  Exp,
  Expm1,
  Fill,
  Floor,
  LeakyRelu,
  Log,
  Log1p,
  Maximum,
  Mean,
  Minimum,
  Multiply,
  Neg,
  OnesLike,
  RealDiv,
  Reciprocal,
  Relu,
  Relu6,
  Round,
  Rsqrt,
  Select,
  Sigmoid,
  Sign,
  Softmax,
  Sqrt,
  Square,
  Step,
  SquaredDifference,
  Sub,
  Sum,
  Tanh,
  Transpose,
  ZerosLike,
  OneHot,
  backend_util,
  broadcast_util,
  getKernel,
  util,
  type DataType,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BlasAddon } from './addon.js';
import { alloc, bytes, cpuFallback, f32, outputArray, releaseArray, words } from './buffer-pool.js';
import type { TransposeCache } from './transpose-cache.js';

type Backend = MathBackendCPU;
type Args = { inputs: Record<string, TensorInfo>; backend: Backend; attrs: Record<string, unknown> };
/** Dimensions the addon's strided loops accept (after merging). */
export const MAX_RANK = 16;

/** Dense row-major strides of a shape. */
export function denseStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/**
 * Drops size-1 dimensions and merges neighbours that are contiguous in every operand, so the
 * native loop runs over as few, as long rows as possible.
 */
export function coalesce(dims: readonly number[], strides: readonly (readonly number[])[]): { dims: number[]; strides: number[][] } {
  const outDims: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i]!;
    if (d === 1) continue;
    const last = outDims.length - 1;
    if (last >= 0 && strides.every((s, j) => outStrides[j]![last] === s[i]! * d)) {
      outDims[last] = outDims[last]! * d;
      strides.forEach((s, j) => (outStrides[j]![last] = s[i]!));
    } else {
      outDims.push(d);
      strides.forEach((s, j) => outStrides[j]!.push(s[i]!));
    }
  }
  if (outDims.length === 0) return { dims: [1], strides: strides.map(() => [0]) };
  return { dims: outDims, strides: outStrides };
}

const binaryOps: Array<[string, number]> = [
  [Add, 0],
  [Sub, 1],
  [Multiply, 2],
  [RealDiv, 3],
  [SquaredDifference, 4],
  [Maximum, 5],
  [Minimum, 6],
];

function binaryConfig(addon: BlasAddon, backendName: string, kernelName: string, op: number): KernelConfig {
  const cpu = cpuFallback(kernelName);
  const kernelFunc = (args: Args): TensorInfo => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return cpu(args as never) as TensorInfo;
    const outShape = broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const rank = outShape.length;
    const pad = (shape: number[]) => [...new Array<number>(rank - shape.length).fill(1), ...shape];
    const aShape = pad(a.shape);
    const bShape = pad(b.shape);
    const sa = denseStrides(aShape).map((s, i) => (aShape[i] === 1 ? 0 : s));
    const sb = denseStrides(bShape).map((s, i) => (bShape[i] === 1 ? 0 : s));
    const plan = coalesce(outShape, [sa, sb]);
    if (plan.dims.length > MAX_RANK) return cpu(args as never) as TensorInfo;
    const out = outputArray(args.backend, util.sizeFromShape(outShape));
    if (out.length > 0) addon.binary(op, f32(args.backend, a), f32(args.backend, b), out, plan.dims, plan.strides[0]!, plan.strides[1]!);
    return args.backend.makeTensorInfo(outShape, 'float32', out);
  };
  return { kernelName, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** Transposes float32 data natively; returns undefined where the cpu kernel must do it. */
function transposeValues(addon: BlasAddon, backend: Backend, values: Float32Array, shape: number[], perm: number[]): Float32Array | undefined {
  const inStrides = denseStrides(shape);
  const plan = coalesce(perm.map((p) => shape[p]!), [perm.map((p) => inStrides[p]!)]);
  if (plan.dims.length > MAX_RANK) return undefined;
  const out = outputArray(backend, util.sizeFromShape(shape));
  if (out.length > 0) addon.transpose(values, out, plan.dims, plan.strides[0]!);
  return out;
}

function transposeConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const cpu = cpuFallback(Transpose);
  const kernelFunc = (args: Args): TensorInfo => {
    const x = args.inputs.x!;
    const perm = args.attrs.perm as number[];
    if (x.dtype !== 'float32') return cpu(args as never) as TensorInfo;
    const cache = (args.backend as Backend & { transposes?: TransposeCache }).transposes;
    const kept = cache?.lookup(x, perm);
    if (kept) return kept;
    const out = transposeValues(addon, args.backend, f32(args.backend, x), x.shape, perm);
    if (!out) return cpu(args as never) as TensorInfo;
    const result = args.backend.makeTensorInfo(perm.map((p) => x.shape[p]!), 'float32', out);
    cache?.remember(x, perm, result);
    return result;
  };
  return { kernelName: Transpose, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

function softmaxConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const cpu = cpuFallback(Softmax);
  const kernelFunc = (args: Args): TensorInfo => {
    const logits = args.inputs.logits!;
    const rank = logits.shape.length;
    const dim = util.parseAxisParam(args.attrs.dim as number, logits.shape)[0];
    if (logits.dtype !== 'float32' || rank === 0 || dim !== rank - 1) return cpu(args as never) as TensorInfo;
    const cols = logits.shape[rank - 1]!;
    const size = util.sizeFromShape(logits.shape);
    const out = outputArray(args.backend, size);
    if (size > 0) addon.softmax(f32(args.backend, logits), out, size / cols, cols);
    return args.backend.makeTensorInfo(logits.shape, 'float32', out);
  };
  return { kernelName: Softmax, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * An int32 sum over a contiguous block of axes, as tfjs-backend-cpu's Sum computes it (each output
 * a double sum over the reduced elements in order, stored into an Int32Array), without the cpu
 * kernel's transpose: its generic loop took 0.5 ms for the 8 x 12 x 128 channel counts of
 * @r3d-ts/rtf-fuser's selection masks.
 */
function sumInt32(x: Int32Array | Float32Array, outer: number, mid: number, inner: number): Int32Array {
  const out = new Int32Array(outer * inner);
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let m = 0; m < mid; m++) {
      const row = (o * mid + m) * inner;
      for (let i = 0; i < inner; i++) acc[i] += x[row + i]!;
    }
    out.set(acc, o * inner);
  }
  return out;
}

/** Sum (or mean) over `axis`: a contiguous block of axes directly, any other set after a transpose. */
function reduceConfig(addon: BlasAddon, backendName: string, kernelName: string, mean: boolean): KernelConfig {
  const cpu = cpuFallback(kernelName);
  const kernelFunc = (args: Args): TensorInfo => {
    const x = args.inputs.x!;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const contiguous = axes.every((ax, i) => i === 0 || ax === axes[i - 1]! + 1);
    const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const finalShape = keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    // x as [outer, mid, inner] with the reduced axes (first..last) as mid
    const blocks = (shape: number[], first: number, last: number) =>
      [shape.slice(0, first), shape.slice(first, last + 1), shape.slice(last + 1)].map((s) => util.sizeFromShape(s)) as [number, number, number];
    const first = axes[0] ?? x.shape.length;
    const last = axes.length ? axes[axes.length - 1]! : x.shape.length - 1;
    // int32 values sit in an Int32Array, or in a Float32Array where a cpu kernel (OneHot) made them
    const ints = args.backend.data.get(x.dataId).values;
    if (x.dtype === 'int32' && !mean && contiguous && (ints instanceof Int32Array || ints instanceof Float32Array)) {
      return args.backend.makeTensorInfo(finalShape, 'int32', sumInt32(ints, ...blocks(x.shape, first, last)));
    }
    if (x.dtype !== 'float32') return cpu(args as never) as TensorInfo;
    let values = f32(args.backend, x);
    let [outer, mid, inner] = blocks(x.shape, first, last);
    if (!contiguous) {
      const perm = backend_util.getAxesPermutation(axes, x.shape.length)!;
      const moved = transposeValues(addon, args.backend, values, x.shape, perm);
      if (!moved) return cpu(args as never) as TensorInfo;
      values = moved;
      [outer, mid, inner] = blocks(perm.map((p) => x.shape[p]!), x.shape.length - axes.length, x.shape.length - 1);
    }
    const out = outputArray(args.backend, outer * inner);
    // a mean divides each float32 sum by the count in double, rounded to float32 again (in C)
    if (out.length > 0) addon.sum(values, out, outer, mid, inner, mean ? mid : undefined);
    if (!contiguous) releaseArray(args.backend, values); // the transposed copy is scratch
    return args.backend.makeTensorInfo(finalShape, 'float32', out);
  };
  return { kernelName, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** The addon's unary op codes (enum in src/addon/elementwise.c), in its order. */
const unaryOps: Array<[string, number]> = [
  [Neg, 0], [Sqrt, 1], [Rsqrt, 2], [Square, 3], [Exp, 4], [Log, 5], [Erf, 6], [Tanh, 7], [Sigmoid, 8], [Abs, 9],
  [Floor, 10], [Relu, 11], [Step, 12], [Reciprocal, 13], [Elu, 14], [Relu6, 15], [Log1p, 16], [Expm1, 17],
  [Sign, 18], [Ceil, 19], [Round, 20], [LeakyRelu, 21],
];

/**
 * Float32 unary kernels as one native loop each: the cpu kernels call a closure per element from
 * a loop shared by every op (so nothing inlines), and its Neg is a broadcasting multiply by -1.
 */
function unaryConfig(addon: BlasAddon, backendName: string, kernelName: string, op: number): KernelConfig {
  const cpu = cpuFallback(kernelName);
  const kernelFunc = (args: Args): TensorInfo => {
    const x = args.inputs.x!;
    if (x.dtype !== 'float32') return cpu(args as never) as TensorInfo;
    const xs = f32(args.backend, x);
    const out = outputArray(args.backend, util.sizeFromShape(x.shape));
    // Step's alpha is the value for x <= 0; LeakyRelu's the slope below 0.
    const alpha = (args.attrs?.alpha as number | undefined) ?? 0;
    if (out.length > 0) addon.unary(op, xs, out, alpha);
    return args.backend.makeTensorInfo(x.shape, 'float32', out);
  };
  return { kernelName, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * Fill, ZerosLike and OnesLike for float32 into recycled arrays: the cpu kernels allocate a fresh
 * array each call, and where a page fault costs ~11 us (the 2-core VMs this was measured on),
 * faulting in the two 400 KB zero gradients of an R3D training step took 1.5-2 ms.
 */
function fillConfig(backendName: string, kernelName: string): KernelConfig {
  const cpu = cpuFallback(kernelName);
  const kernelFunc = (args: Args): TensorInfo => {
    const x = args.inputs.x;
    const dtype = x ? x.dtype : (args.attrs.dtype as string | undefined) ?? 'float32';
    if (dtype !== 'float32') return cpu(args as never) as TensorInfo;
    const shape = x ? x.shape : (args.attrs.shape as number[]);
    const value = kernelName === Fill ? (args.attrs.value as number) : kernelName === OnesLike ? 1 : 0;
    const out = outputArray(args.backend, util.sizeFromShape(shape));
    out.fill(value);
    return args.backend.makeTensorInfo(shape, 'float32', out);
  };
  return { kernelName, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * OneHot into a recycled array, exactly as the cpu kernel computes it (a Float32Array of offValue
 * with onValue at each index in [0, depth), for any dtype): its fresh 64 KB array for the R3D
 * loss's 800 x 20 one-hot took 0.1-0.2 ms of page faults a call.
 */
function oneHotConfig(backendName: string): KernelConfig {
  const kernelFunc = (args: Args): TensorInfo => {
    const indices = args.inputs.indices!;
    const { dtype, depth, onValue, offValue } = args.attrs as { dtype: DataType; depth: number; onValue: number; offValue: number };
    const size = util.sizeFromShape(indices.shape);
    const out = outputArray(args.backend, size * depth);
    out.fill(offValue);
    const at = args.backend.data.get(indices.dataId).values as ArrayLike<number>;
    for (let i = 0; i < size; i++) {
      const k = at[i]!;
      if (k >= 0 && k < depth) out[i * depth + k] = onValue;
    }
    return args.backend.makeTensorInfo([...indices.shape, depth], dtype, out);
  };
  return { kernelName: OneHot, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** The kernels fillConfig serves. */
const constantKernelNames = [Fill, ZerosLike, OnesLike];

/** Kernels that write constants: native-blas gives them recycled arrays (see fillConfig, oneHotConfig). */
export const fillKernelNames = [...constantKernelNames, OneHot];

/** The element-wise kernels that a transformer training step spends its time in on the cpu backend. */
export const unaryKernelNames = unaryOps.map(([name]) => name);

/**
 * Select (`tf.where`) of float32 or int32 values by a bool condition of their shape (the `where`
 * op broadcasts all three first), in the addon; anything else goes to the cpu kernel. Why: the cpu
 * kernel's loop serves every dtype and condition rank, at ~13 ns an element on a 2-core AMD EPYC,
 * and the RTF fuser's channel scoring runs six selects over (B, T, C) a pass.
 */
function selectConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const cpu = cpuFallback(Select);
  const kernelFunc = (args: Args): TensorInfo => {
    const { condition, t, e } = args.inputs as { condition: TensorInfo; t: TensorInfo; e: TensorInfo };
    const [c, tv, ev] = [bytes(args.backend, condition), words(args.backend, t), words(args.backend, e)];
    if (!c || !tv || !ev || e.dtype !== t.dtype || !util.arraysEqual(condition.shape, t.shape) || !util.arraysEqual(e.shape, t.shape)) {
      return cpu(args as never) as TensorInfo;
    }
    const out = alloc(args.backend, t.dtype, util.sizeFromShape(t.shape));
    if (out.length > 0) addon.select(c, tv, ev, out);
    return args.backend.makeTensorInfo(t.shape, t.dtype, out);
  };
  return { kernelName: Select, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function elementwiseConfigs(addon: BlasAddon, backendName: string): KernelConfig[] {
  return [
    ...binaryOps.map(([name, op]) => binaryConfig(addon, backendName, name, op)),
    transposeConfig(addon, backendName),
    softmaxConfig(addon, backendName),
    reduceConfig(addon, backendName, Sum, false),
    reduceConfig(addon, backendName, Mean, true),
    ...unaryOps.map(([name, op]) => unaryConfig(addon, backendName, name, op)),
    ...constantKernelNames.map((name) => fillConfig(backendName, name)),
    oneHotConfig(backendName),
    selectConfig(addon, backendName),
  ];
}
