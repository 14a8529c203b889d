import { requireAddon } from './addon.js';

/**
 * Sets how many threads the native kernels use from now on: the addon's GEMM and element-wise
 * kernels, and OpenBLAS for the products it runs (default: `R3D_BLAS_THREADS`, else all cores).
 * One thread is best when several processes share the machine.
 *
 * @example
 * setBlasThreads(1); // e.g. in a test worker
 */
export function setBlasThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setBlasThreads: expected an integer >= 1, got ${n}`);
  requireAddon().setNumThreads(n);
}

/**
 * The number of threads the native kernels currently use.
 *
 * @example
 * getBlasThreads(); // 2 on a 2-core machine
 */
export function getBlasThreads(): number {
  return requireAddon().getNumThreads();
}
