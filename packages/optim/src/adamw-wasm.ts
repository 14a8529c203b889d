import * as tf from '@tensorflow/tfjs-core';
import { R3DAdamW, type R3DAdamWAttrs } from '@r3d-ts/kernel-names';
import { wasmExportsFor, wasmHeap, type WasmHeapHost } from './adamw-module.js';
import { adamWSimd } from './adamw-simd.js';

// The composed AdamW update is 12-14 wasm kernels per parameter, each a pass over the weights with
// its own output buffer. This kernel makes one pass: a WebAssembly SIMD loop (./adamw-simd.ts) over
// all but the last n % 4 weights, JavaScript for those (and for everything where WebAssembly has no
// SIMD). Every operation is rounded to float32 (Math.fround) in the composed order: a float32 sum,
// product, quotient or square root computed in float64 and rounded once is the correctly rounded
// float32 result, which is what wasm's own float32 instructions return, so the bits equal the
// composed path's (tested).

interface WasmBackendLike extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
  /** The Emscripten module, holding the heap. */
  wasm?: WasmHeapHost;
}

const fr = Math.fround;

/** Whether the wasm backend's R3DAdamW runs its SIMD loop on the heap (else the JavaScript loop does all; tests ask). */
export function adamWRunsSimd(backend: tf.KernelBackend): boolean {
  const heap = wasmHeap((backend as WasmBackendLike).wasm);
  return heap !== undefined && wasmExportsFor(heap) !== null;
}

function adamWLoop(
  from: number,
  p: Float32Array, mi: Float32Array, vi: Float32Array, g: Float32Array, p1: Float32Array, m1: Float32Array, v1: Float32Array,
  decays: boolean, keep: number, b1: number, c1: number, b2: number, c2: number, bc2: number, eps: number, step: number,
): void {
  const n = p.length;
  for (let i = from; i < n; i++) {
    const gi = g[i]!;
    const decayed = decays ? fr(p[i]! * keep) : p[i]!;
    const mNew = fr(fr(mi[i]! * b1) + fr(gi * c1));
    const vNew = fr(fr(vi[i]! * b2) + fr(fr(gi * gi) * c2));
    const denom = fr(fr(fr(Math.sqrt(vNew)) / bc2) + eps);
    p1[i] = fr(decayed - fr(fr(mNew / denom) * step));
    m1[i] = mNew;
    v1[i] = vNew;
  }
}

function adamWKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const { param, m, v, grad } = args.inputs as Record<'param' | 'm' | 'v' | 'grad', tf.TensorInfo>;
  const a = args.attrs as unknown as R3DAdamWAttrs;
  const backend = args.backend as WasmBackendLike;
  const outs = [param, m, v].map((t) => backend.makeOutput([...t.shape], 'float32'));
  // views after every makeOutput: growing the heap detaches earlier ones
  const [p, mi, vi, g] = [param, m, v, grad].map((t) => backend.typedArrayFromHeap(t) as Float32Array);
  const [p1, m1, v1] = outs.map((t) => backend.typedArrayFromHeap(t) as Float32Array);
  // the scalars as the composed path's tf.scalar(...) holds them
  const keep = fr(a.keep);
  const decays = a.keep !== 1;
  const b1 = fr(a.beta1);
  const c1 = fr(1 - a.beta1);
  const b2 = fr(a.beta2);
  const c2 = fr(1 - a.beta2);
  const bc2 = fr(a.bc2Sqrt);
  const eps = fr(a.epsilon);
  const step = fr(a.stepSize);
  const heap = wasmHeap(backend.wasm);
  const done = heap ? adamWSimd(heap, p!, mi!, vi!, g!, p1!, m1!, v1!, Float32Array.of(keep, b1, c1, b2, c2, bc2, eps, step)) : 0;
  adamWLoop(done, p!, mi!, vi!, g!, p1!, m1!, v1!, decays, keep, b1, c1, b2, c2, bc2, eps, step);
  return outs;
}

/**
 * Registers the fused `R3DAdamW` kernel of @r3d-ts/kernel-names for the wasm backend (once; a
 * no-op when one is registered), so `AdamW` makes one pass per parameter there instead of a dozen
 * kernels, with the same bits as the composed update.
 *
 * @example
 * registerWasmAdamW();
 * tf.getKernel(R3DAdamW, 'wasm'); // defined
 */
export function registerWasmAdamW(): void {
  if (tf.getKernel(R3DAdamW, 'wasm') !== undefined) return;
  tf.registerKernel({ kernelName: R3DAdamW, backendName: 'wasm', kernelFunc: adamWKernel as unknown as tf.KernelFunc });
}
