import * as tf from '@tensorflow/tfjs-core';
import { R3DDropoutMultiplier, type R3DDropoutMultiplierAttrs } from '@r3d-ts/kernel-names';
import seedrandom from 'seedrandom';

/** seedrandom's alea generator's state as `alea(seed, { state: true }).state()` gives it: its carry and three numbers. */
interface AleaState {
  c: number;
  s0: number;
  s1: number;
  s2: number;
}

/** The state alea starts from for `String(seed)`, as `tf.randomUniform(..., seed)` seeds it. */
function aleaState(seed: number): AleaState {
  return (seedrandom.alea as unknown as (seed: string, options: { state: true }) => { state(): AleaState })(String(seed), { state: true }).state();
}

/**
 * The multiplier `tf.dropout(x, rate, undefined, seed)` draws for an x of `size` elements, as
 * float32 values bit for bit: u_i from seedrandom's alea seeded with `String(seed)` (what
 * `tf.randomUniform(shape, 0, 1, 'float32', seed)` stores), then floor(u_i + keep) / keep with
 * keep = 1 - rate, each operation rounded to float32 as tfjs's Add, Floor and RealDiv kernels
 * round it. The values are written into `out` (a new array unless given) and returned.
 *
 * @example
 * dropoutMultiplier(7, 4, 0.5); // Float32Array of 0s and 2s, the mask of tf.dropout(x, 0.5, undefined, 7)
 */
export function dropoutMultiplier(seed: number, size: number, rate: number, out: Float32Array = new Float32Array(size)): Float32Array {
  const keep = Math.fround(1 - rate);
  // alea's step t = 2091639 * s0 + c * 2^-32, c' = t | 0, s2' = t - c' is exact in doubles (each s is
  // a 32-bit integer x times 2^-32 and 2091639 * x0 + c < 2^53): the same recurrence on x, here
  // in local variables rather than through the generator's closure and fields (7 -> 3.6 ns a draw)
  const state = aleaState(seed);
  let c = state.c;
  let x0 = state.s0 * 4294967296;
  let x1 = state.s1 * 4294967296;
  let x2 = state.s2 * 4294967296;
  for (let i = 0; i < size; i++) {
    const t = 2091639 * x0 + c;
    c = Math.floor(t * 2.3283064365386963e-10);
    x0 = x1;
    x1 = x2;
    x2 = t - c * 4294967296;
    // x2 * 2^-32 is alea's draw; the Float32Array rounds the quotient, as RealDiv's output does
    out[i] = Math.floor(Math.fround(Math.fround(x2 * 2.3283064365386963e-10) + keep)) / keep;
  }
  return out;
}

interface HeapBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
}
interface ValuesBackend extends tf.KernelBackend {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo;
  /** native-blas: an output array it recycles (a fresh one costs page faults every step). */
  floatOutput?(length: number): Float32Array;
  /** native-blas: `dropoutMultiplier`'s values from alea's state, drawn in C. */
  aleaDropoutMultiplier?(state: AleaState, keep: number, out: Float32Array): void;
}

const dropoutMultiplierKernel: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as tf.KernelBackend;
  const seed = inputs.seed as tf.TensorInfo;
  const { shape, rate, offset } = attrs as unknown as R3DDropoutMultiplierAttrs;
  if (seed.dtype !== 'int32' || seed.shape.length !== 0) {
    throw new Error(`${R3DDropoutMultiplier}: seed must be an int32 scalar (the seed's unsigned 32-bit pattern), got ${seed.dtype} [${seed.shape.join(', ')}]`);
  }
  const bits = (backend.readSync(seed.dataId) as Int32Array)[0]!;
  const size = tf.util.sizeFromShape(shape);
  const heap = backend as Partial<HeapBackend>;
  if (typeof heap.makeOutput === 'function' && typeof heap.typedArrayFromHeap === 'function') {
    const out = heap.makeOutput(shape, 'float32');
    dropoutMultiplier((bits >>> 0) + offset, size, rate, heap.typedArrayFromHeap(out) as Float32Array);
    return out;
  }
  const values = backend as ValuesBackend;
  const out = typeof values.floatOutput === 'function' ? values.floatOutput(size) : new Float32Array(size);
  if (typeof values.aleaDropoutMultiplier === 'function') {
    values.aleaDropoutMultiplier(aleaState((bits >>> 0) + offset), Math.fround(1 - rate), out);
    return values.makeTensorInfo(shape, 'float32', out);
  }
  return values.makeTensorInfo(shape, 'float32', dropoutMultiplier((bits >>> 0) + offset, size, rate, out));
};

/**
 * Registers `R3DDropoutMultiplier` (@r3d-ts/kernel-names) for a backend whose tensors live in
 * JavaScript or on the wasm heap (cpu, native-blas, wasm); `selectBackend` does it for the backend
 * it starts. The mask is drawn on the host as `tf.dropout` draws it, so the kernel is worth having
 * only because its seed is a tensor: a captured step replays it with each step's seed. Returns
 * whether the kernel is registered now.
 *
 * @example
 * registerDropoutKernel('wasm');
 */
export function registerDropoutKernel(backendName: string): boolean {
  if (tf.getKernel(R3DDropoutMultiplier, backendName)) return true;
  if (!['cpu', 'native-blas', 'wasm'].includes(backendName)) return false;
  tf.registerKernel({ kernelName: R3DDropoutMultiplier, backendName, kernelFunc: dropoutMultiplierKernel });
  return true;
}
