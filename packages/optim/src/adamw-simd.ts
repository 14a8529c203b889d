// AdamW's update as a WebAssembly SIMD loop, four weights per instruction. The JavaScript loop of
// ./adamw-wasm.ts rounds every operation with Math.fround, two conversions each, and runs at about
// 12-20 ns a weight; wasm's f32x4 operations are IEEE single precision, correctly rounded, so they
// give the same bits as that loop (a float32 sum, product, quotient or square root computed in
// float64 and rounded once is the correctly rounded float32 result) at a fraction of the time.
//
// The loop is src/adamw.wat, compiled by scripts/wasm-module.mjs (wabt) into ./adamw-module.ts. It
// imports tfjs-backend-wasm's heap and reads and writes the tensors where they are: the copies in
// and out of a memory of its own (69 MB a step for R3D's depth weights) are gone.
import { wasmExportsFor } from './adamw-module.js';

interface AdamWModule {
  adamw(
    p: number, m: number, v: number, g: number, p1: number, m1: number, v1: number, bytes: number,
    keep: number, b1: number, c1: number, b2: number, c2: number, bc2: number, eps: number, step: number,
  ): void;
}

/**
 * One AdamW update of the first `n - n % 4` weights with the SIMD loop, into p1, m1, v1, all
 * views on `memory` (the wasm heap); returns how many it did (0 where WebAssembly has no SIMD or
 * an array is not on that memory): the caller finishes the rest. `constants` are keep, beta1,
 * 1 - beta1, beta2, 1 - beta2, bc2Sqrt, epsilon, stepSize, already float32.
 *
 * @example
 * const done = adamWSimd(heap, p, m, v, g, p1, m1, v1, constants); // then weights done..n in JavaScript
 */
export function adamWSimd(
  memory: { buffer: ArrayBufferLike },
  p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array,
  p1: Float32Array, m1: Float32Array, v1: Float32Array, constants: Float32Array,
): number {
  const arrays = [p, m, v, g, p1, m1, v1];
  const n = p.length - (p.length % 4);
  if (n === 0 || arrays.some((a) => a.buffer !== memory.buffer)) return 0;
  const loop = wasmExportsFor(memory) as AdamWModule | null;
  if (!loop) return 0;
  const [keep, b1, c1, b2, c2, bc2, eps, step] = constants;
  loop.adamw(p.byteOffset, m.byteOffset, v.byteOffset, g.byteOffset, p1.byteOffset, m1.byteOffset, v1.byteOffset, 4 * n, keep!, b1!, c1!, b2!, c2!, bc2!, eps!, step!);
  return n;
}
