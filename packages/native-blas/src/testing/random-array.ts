/**
 * A deterministic pseudo-random Float32Array in [-0.5, 0.5) (a 32-bit LCG from `seed`), for the
 * GEMM tests and the kernels bench: the same numbers on every run and machine.
 *
 * @example
 * randomArray(4, 1).length; // 4
 */
export function randomArray(length: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}
