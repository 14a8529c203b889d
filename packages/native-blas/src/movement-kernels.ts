import {
  Concat,
  Pack,
  PadV2,
  Slice,
  SplitV,
  StridedSlice,
  Tile,
  Unpack,
  backend_util,
  getKernel,
  slice_util,
  util,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BlasAddon } from './addon.js';
import { alloc, bytes, cpuFallback, words, type Words } from './buffer-pool.js';
import { coalesce, denseStrides, MAX_RANK } from './elementwise-kernels.js';

type Backend = MathBackendCPU;
type Args = { inputs: Record<string, TensorInfo> | TensorInfo[]; backend: Backend; attrs: Record<string, unknown> };
/** What the addon's strided copy moves: 4-byte words, or the bytes of bool tensors. */
type Elements = Words | Uint8Array;


/**
 * out[offOut + sum(i_d * stridesOut_d)] = x[offX + sum(i_d * stridesX_d)] over every index i < dims,
 * after merging dimensions; false when even the merged walk has too many dimensions.
 */
function stridedCopy(addon: BlasAddon, x: Elements, out: Elements, dims: number[], sx: number[], so: number[], offX: number, offOut: number): boolean {
  if (util.sizeFromShape(dims) === 0) return true;
  const plan = coalesce(dims, [sx, so]);
  if (plan.dims.length > MAX_RANK) return false;
  addon.copy(x, out, plan.dims, plan.strides[0]!, plan.strides[1]!, offX, offOut);
  return true;
}

/**
 * x[begin : begin + size] as a new dense array. Contiguous slices are copied too (the cpu kernel
 * returns a view), so no two tensors share a buffer and disposed arrays can be recycled.
 */
function sliceValues(addon: BlasAddon, backend: Backend, x: Words, shape: number[], dtype: string, begin: number[], size: number[]): Words | undefined {
  const xStrides = denseStrides(shape);
  const offset = begin.reduce((acc, b, i) => acc + b * xStrides[i]!, 0);
  const out = alloc(backend, dtype, util.sizeFromShape(size));
  if (slice_util.isSliceContinous(shape, begin, size)) {
    out.set(x.subarray(offset, offset + out.length));
    return out;
  }
  return stridedCopy(addon, x, out, size, xStrides, denseStrides(size), offset, 0) ? out : undefined;
}

function sliceConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const cpu = cpuFallback(Slice);
  const kernelFunc = (args: Args): TensorInfo => {
    const x = (args.inputs as Record<string, TensorInfo>).x!;
    const values = words(args.backend, x);
    if (!values) return cpu(args as never) as TensorInfo;
    const [begin, size] = slice_util.parseSliceParams(x, args.attrs.begin as number[], args.attrs.size as number[]);
    slice_util.assertParamsValid(x, begin!, size!);
    const out = sliceValues(addon, args.backend, values, x.shape, x.dtype, begin!, size!);
    if (!out) return cpu(args as never) as TensorInfo;
    return args.backend.makeTensorInfo(size!, x.dtype, out);
  };
  return { kernelName: Slice, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

function splitVConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const cpu = cpuFallback(SplitV);
  const kernelFunc = (args: Args): TensorInfo[] => {
    const x = (args.inputs as Record<string, TensorInfo>).x!;
    const values = words(args.backend, x);
    if (!values || x.shape.length > MAX_RANK) return cpu(args as never) as TensorInfo[];
    const axis = util.parseAxisParam(args.attrs.axis as number, x.shape)[0]!;
    const sizes = backend_util.prepareSplitSize(x, args.attrs.numOrSizeSplits as number[] | number, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[axis] = s;
      const out = sliceValues(addon, args.backend, values, x.shape, x.dtype, begin, size)!;
      begin[axis] += s;
      return args.backend.makeTensorInfo(size, x.dtype, out);
    });
  };
  return { kernelName: SplitV, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

function unpackConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const cpu = cpuFallback(Unpack);
  const kernelFunc = (args: Args): TensorInfo[] => {
    const value = (args.inputs as Record<string, TensorInfo>).value!;
    const values = words(args.backend, value);
    if (!values || value.shape.length > MAX_RANK) return cpu(args as never) as TensorInfo[];
    let axis = args.attrs.axis as number;
    if (axis < 0) axis += value.shape.length;
    const outShape = value.shape.filter((_, i) => i !== axis);
    const begin = new Array<number>(value.shape.length).fill(0);
    const size = value.shape.slice();
    size[axis] = 1;
    return Array.from({ length: value.shape[axis]! }, (_, i) => {
      begin[axis] = i;
      return args.backend.makeTensorInfo(outShape, value.dtype, sliceValues(addon, args.backend, values, value.shape, value.dtype, begin, size)!);
    });
  };
  return { kernelName: Unpack, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

function stridedSliceConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const cpu = cpuFallback(StridedSlice);
  const kernelFunc = (args: Args): TensorInfo => {
    const x = (args.inputs as Record<string, TensorInfo>).x!;
    const values = words(args.backend, x);
    if (!values) return cpu(args as never) as TensorInfo;
    const a = args.attrs as Record<string, number & number[]>;
    const info = slice_util.sliceInfo(x.shape, a.begin, a.end, a.strides, a.beginMask, a.endMask, a.ellipsisMask, a.newAxisMask, a.shrinkAxisMask);
    if (info.isIdentity) return cpu(args as never) as TensorInfo; // a reshape, no copy
    if (info.sliceDim0 || info.isSimpleSlice) {
      const size = slice_util.computeOutShape(info.begin, info.end, info.strides);
      const out = sliceValues(addon, args.backend, values, x.shape, x.dtype, info.begin, size);
      return out ? args.backend.makeTensorInfo(info.finalShape, x.dtype, out) : (cpu(args as never) as TensorInfo);
    }
    const dims = info.finalShapeSparse;
    if (dims.length !== x.shape.length) return cpu(args as never) as TensorInfo;
    const xStrides = denseStrides(x.shape);
    const out = alloc(args.backend, x.dtype, util.sizeFromShape(dims));
    const offset = info.begin.reduce((acc, b, i) => acc + b * xStrides[i]!, 0);
    const sx = info.strides.map((s, i) => s * xStrides[i]!);
    if (!stridedCopy(addon, values, out, dims, sx, denseStrides(dims), offset, 0)) return cpu(args as never) as TensorInfo;
    return args.backend.makeTensorInfo(info.finalShape, x.dtype, out);
  };
  return { kernelName: StridedSlice, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** Writes each part into its block of `out` (shape outShape), the blocks laid side by side along `axis`. */
function placeAlong(addon: BlasAddon, backend: Backend, parts: TensorInfo[], partShapes: number[][], outShape: number[], axis: number, step: (i: number) => number, out: Words): boolean {
  const outStrides = denseStrides(outShape);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    const values = words(backend, parts[i]!)!;
    const shape = partShapes[i]!;
    if (!stridedCopy(addon, values, out, shape, denseStrides(shape), outStrides, 0, at * outStrides[axis]!)) return false;
    at += step(i);
  }
  return true;
}

function concatConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const cpu = cpuFallback(Concat);
  const kernelFunc = (args: Args): TensorInfo => {
    const inputs = args.inputs as TensorInfo[];
    const dtype = inputs[0]!.dtype;
    const axis = util.parseAxisParam(args.attrs.axis as number, inputs[0]!.shape)[0]!;
    const nonEmpty = inputs.filter((t) => util.sizeFromShape(t.shape) > 0);
    if (nonEmpty.length < 2 || inputs.some((t) => t.dtype !== dtype || !words(args.backend, t))) return cpu(args as never) as TensorInfo;
    backend_util.assertParamsConsistent(inputs.map((t) => t.shape), axis);
    const outShape = backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
    const out = alloc(args.backend, dtype, util.sizeFromShape(outShape));
    const shapes = nonEmpty.map((t) => t.shape);
    if (!placeAlong(addon, args.backend, nonEmpty, shapes, outShape, axis, (i) => shapes[i]![axis]!, out)) return cpu(args as never) as TensorInfo;
    return args.backend.makeTensorInfo(outShape, dtype, out);
  };
  return { kernelName: Concat, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

function packConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const cpu = cpuFallback(Pack);
  const kernelFunc = (args: Args): TensorInfo => {
    const inputs = args.inputs as TensorInfo[];
    const first = inputs[0]!;
    if (inputs.length < 2 || inputs.some((t) => t.dtype !== first.dtype || !words(args.backend, t))) return cpu(args as never) as TensorInfo;
    inputs.forEach((t) => {
      util.assertShapesMatch(first.shape, t.shape, 'All tensors passed to stack must have matching shapes');
    });
    let axis = args.attrs.axis as number;
    if (axis < 0) axis += first.shape.length + 1;
    const expanded = [...first.shape.slice(0, axis), 1, ...first.shape.slice(axis)];
    const outShape = [...first.shape.slice(0, axis), inputs.length, ...first.shape.slice(axis)];
    const out = alloc(args.backend, first.dtype, util.sizeFromShape(outShape));
    if (!placeAlong(addon, args.backend, inputs, inputs.map(() => expanded), outShape, axis, () => 1, out)) return cpu(args as never) as TensorInfo;
    return args.backend.makeTensorInfo(outShape, first.dtype, out);
  };
  return { kernelName: Pack, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

function padConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const cpu = cpuFallback(PadV2);
  const kernelFunc = (args: Args): TensorInfo => {
    const x = (args.inputs as Record<string, TensorInfo>).x!;
    const values = words(args.backend, x);
    if (!values) return cpu(args as never) as TensorInfo;
    const paddings = args.attrs.paddings as Array<[number, number]>;
    const constantValue = args.attrs.constantValue as number;
    const outShape = paddings.map((p, i) => p[0] + x.shape[i]! + p[1]);
    const out = alloc(args.backend, x.dtype, util.sizeFromShape(outShape));
    // A recycled array holds old values: the padding is always written.
    if (outShape.some((d, i) => d !== x.shape[i])) out.fill(constantValue);
    const outStrides = denseStrides(outShape);
    const offset = paddings.reduce((acc, p, i) => acc + p[0] * outStrides[i]!, 0);
    if (!stridedCopy(addon, values, out, x.shape, denseStrides(x.shape), outStrides, 0, offset)) return cpu(args as never) as TensorInfo;
    return args.backend.makeTensorInfo(outShape, x.dtype, out);
  };
  return { kernelName: PadV2, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

function tileConfig(addon: BlasAddon, backendName: string): KernelConfig {
  const cpu = cpuFallback(Tile);
  const kernelFunc = (args: Args): TensorInfo => {
    const x = (args.inputs as Record<string, TensorInfo>).x!;
    const reps = args.attrs.reps as number[];
    const values = words(args.backend, x);
    const mask = values ? undefined : bytes(args.backend, x);
    if ((!values && !mask) || reps.length !== x.shape.length) return cpu(args as never) as TensorInfo;
    const outShape = x.shape.map((d, i) => d * reps[i]!);
    // Output axis i viewed as (reps[i], shape[i]): the repetition index reads x at stride 0.
    const dims = x.shape.flatMap((d, i) => [reps[i]!, d]);
    const sx = denseStrides(x.shape).flatMap((s) => [0, s]);
    const so = denseStrides(outShape).flatMap((s, i) => [s * x.shape[i]!, s]);
    // bool too: the RTF fuser tiles its frame masks (8 x T x 1 to 8 x T x 64), which took a tenth of
    // a partner cell in the cpu kernel's per-element index arithmetic on a 2-core AMD EPYC
    const out = mask ? new Uint8Array(util.sizeFromShape(outShape)) : alloc(args.backend, x.dtype, util.sizeFromShape(outShape));
    if (!stridedCopy(addon, values ?? mask!, out, dims, sx, so, 0, 0)) return cpu(args as never) as TensorInfo;
    return args.backend.makeTensorInfo(outShape, x.dtype, out);
  };
  return { kernelName: Tile, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** Kernels that only move data: slicing, splitting, joining, padding, tiling (float32 and int32; tiling bool too). */
export function movementConfigs(addon: BlasAddon, backendName: string): KernelConfig[] {
  return [
    sliceConfig(addon, backendName),
    splitVConfig(addon, backendName),
    unpackConfig(addon, backendName),
    stridedSliceConfig(addon, backendName),
    concatConfig(addon, backendName),
    packConfig(addon, backendName),
    padConfig(addon, backendName),
    tileConfig(addon, backendName),
  ];
}
