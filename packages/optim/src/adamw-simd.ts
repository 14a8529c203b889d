// AdamW's update as a WebAssembly SIMD loop, four weights per instruction. The JavaScript loop of
// ./adamw-wasm.ts rounds every operation with Math.fround, two conversions each, and runs at about
// 12-20 ns a weight; wasm's f32x4 operations are IEEE single precision, correctly rounded, so they
// give the same bits as that loop (a float32 sum, product, quotient or square root computed in
// float64 and rounded once is the correctly rounded float32 result) at a fraction of the time.
//
// The loop is src/adamw.wat, compiled by scripts/wasm-module.mjs (wabt) into ./adamw-module.ts. It
// works on its own memory: tfjs's wasm heap is not exported as a WebAssembly.Memory, so the inputs
// are copied in and the outputs out (memcpy speed), and the update runs in place there.
import { wasmExports } from './adamw-module.js';

interface AdamWModule {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  adamw(p: number, m: number, v: number, g: number, bytes: number, constants: number): void;
}

/** The SIMD loop, or null where WebAssembly has no SIMD (the JavaScript loop of adamw-wasm.ts serves). */
const simdLoop = (): AdamWModule | null => wasmExports() as AdamWModule | null;

/**
 * One AdamW update of the first `n - n % 4` weights with the SIMD loop, into p1, m1, v1; returns
 * how many it did (0 where WebAssembly has no SIMD): the caller finishes the rest. `constants` are
 * keep, beta1, 1 - beta1, beta2, 1 - beta2, bc2Sqrt, epsilon, stepSize, already float32.
 *
 * @example
 * const done = adamWSimd(p, m, v, g, p1, m1, v1, constants); // then weights done..n in JavaScript
 */
export function adamWSimd(
  p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array,
  p1: Float32Array, m1: Float32Array, v1: Float32Array, constants: Float32Array,
): number {
  const loop = simdLoop();
  const n = p.length - (p.length % 4);
  if (!loop || n === 0) return 0;
  const bytes = 4 * n;
  const need = 4 * bytes + 32;
  const have = loop.memory.buffer.byteLength;
  if (have < need) loop.memory.grow(Math.ceil((need - have) / 65536));
  const heap = new Float32Array(loop.memory.buffer);
  // [p | m | v | g | constants], every block on a 16-byte boundary (n is a multiple of 4)
  heap.set(p.subarray(0, n), 0);
  heap.set(m.subarray(0, n), n);
  heap.set(v.subarray(0, n), 2 * n);
  heap.set(g.subarray(0, n), 3 * n);
  heap.set(constants, 4 * n);
  loop.adamw(0, bytes, 2 * bytes, 3 * bytes, bytes, 4 * bytes);
  p1.set(heap.subarray(0, n));
  m1.set(heap.subarray(n, 2 * n));
  v1.set(heap.subarray(2 * n, 3 * n));
  return n;
}
