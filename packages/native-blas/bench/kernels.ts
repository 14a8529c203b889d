// Our GEMM kernels against OpenBLAS on R3D's products, alternated in one process (64 MB of other
// data written between calls, as the training step's other kernels leave the caches), medians of 12.
//   pnpm --filter @r3d-ts/native-blas bench:kernels     (R3D_BLAS_THREADS=1 for one core;
//   R3D_NATIVE_GEMM=avx2 times the AVX2 kernels on an AVX-512 CPU)
import { getBlasThreads } from '../src/threads.js';
import { gemmIsaWanted, loadAddon } from '../src/addon.js';
import { randomArray } from '../src/testing/random-array.js';

// OpenBLAS's worker threads busy-wait ~0.1 s after each threaded call (2^28 cycles) unless told
// otherwise before the library loads: our product after it then shared a core with that spin and
// ran up to 2x slow, in some runs and not others. 2^4 cycles makes them sleep at once.
process.env.OPENBLAS_THREAD_TIMEOUT ??= '4';
const status = loadAddon();
if (!status.ok) {
  console.log(`native-blas unavailable: ${status.reason}`);
  process.exit(0);
}
const addon = status.addon;
const isa = gemmIsaWanted();
if (!addon.setOwnGemm(true, isa)) {
  console.log(`our kernels do not run here: ${addon.config()}`);
  process.exit(0);
}
console.log(`${addon.config()}; ${getBlasThreads()} thread(s)`);

const products: Array<[string, number, number, number, boolean, boolean]> = [
  ['depth projection (training), A B^T', 800, 128, 19200, false, true],
  ['its weight gradient, A^T B', 128, 19200, 800, true, false],
  ['RGB projection, A B^T', 800, 128, 2048, false, true],
  ['feed-forward, A B^T', 1600, 512, 128, false, true],
  ['its input gradient, A B', 1600, 128, 512, false, false],
  ['its weight gradient, A^T B', 512, 128, 1600, true, false],
  ['512^3, A B', 512, 512, 512, false, false],
];
const flush = new Float32Array(16 << 20);
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
console.log(`| product (m x n x k) | ours, ms (GFLOP/s) | OpenBLAS, ms (GFLOP/s) | ours / OpenBLAS |`);
console.log(`|---|---|---|---|`);
for (const [name, m, n, k, ta, tb] of products) {
  const a = randomArray(m * k, 1);
  const b = randomArray(k * n, 2);
  const c = new Float32Array(m * n);
  const times = { ours: [] as number[], blas: [] as number[] };
  for (let i = 0; i < 12; i++) {
    for (const side of i % 2 ? (['ours', 'blas'] as const) : (['blas', 'ours'] as const)) {
      addon.setOwnGemm(side === 'ours', isa);
      flush.fill(i);
      const t0 = performance.now();
      addon.sgemm(a, b, c, 1, 1, 1, m, n, k, ta, tb, 1, 0);
      times[side].push(performance.now() - t0);
    }
  }
  addon.setOwnGemm(true, isa);
  const [ours, blas] = [median(times.ours), median(times.blas)];
  const rate = (ms: number) => ((2 * m * n * k) / ms / 1e6).toFixed(0);
  console.log(`| ${m} x ${n} x ${k}, ${name} | ${ours.toFixed(2)} (${rate(ours)}) | ${blas.toFixed(2)} (${rate(blas)}) | ${(ours / blas).toFixed(2)}x |`);
}
