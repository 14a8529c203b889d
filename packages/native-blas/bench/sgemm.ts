// GFLOP/s of a 512^3 sgemm (plain and transposed) on native-blas vs wasm vs cpu, numpy as the peer,
// and the ms per Adam step of a transformer block on each backend.
//   pnpm --filter @r3d-ts/native-blas bench        (R3D_BLAS_THREADS=1 for one core)
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { getBlasThreads, NATIVE_BLAS, nativeBlasStatus, registerNativeBlasBackend } from '../src/index.js';
import { tinyTransformer } from '../src/testing/tiny-transformer.js';

const N = 512;
const flops = 2 * N ** 3;
const status = nativeBlasStatus();
const backends = ['cpu', 'wasm'];
if (status.available) {
  registerNativeBlasBackend();
  backends.unshift(NATIVE_BLAS);
  console.log(`native-blas: ${status.config}, ${getBlasThreads()} thread(s)`);
} else {
  console.log(`native-blas unavailable: ${status.reason}`);
}

function time(f: () => void, minMs: number, maxReps: number): number {
  f(); // warm-up
  let reps = 0;
  const t0 = performance.now();
  do {
    f();
    reps++;
  } while (performance.now() - t0 < minMs && reps < maxReps);
  return (performance.now() - t0) / reps;
}

const rows: string[][] = [];
const gflops: Record<string, Record<string, number>> = {};
for (const name of backends) {
  await tf.setBackend(name);
  await tf.ready();
  const a = tf.randomUniform([N, N], -1, 1, 'float32', 1);
  const b = tf.randomUniform([N, N], -1, 1, 'float32', 2);
  const slow = name === 'cpu';
  gflops[name] = {};
  for (const [label, ta, tb] of [['plain', false, false], ['A^T B^T', true, true], ['A B^T', false, true]] as const) {
    // The product alone, as numpy's a @ b: these backends run kernels synchronously, and reading
    // the result back would time a fresh 1 MB array too (a read-back array is never recycled).
    const ms = time(() => tf.matMul(a, b, ta, tb).dispose(), slow ? 0 : 400, slow ? 1 : 50);
    gflops[name]![label] = flops / ms / 1e6;
  }
  tf.dispose([a, b]);
  const model = tinyTransformer({ batch: 16, tokens: 64, channels: 128, heads: 4, hidden: 512 });
  const stepMs = time(() => model.step(), slow ? 0 : 2000, slow ? 1 : 10);
  model.dispose();
  rows.push([name, ...Object.values(gflops[name]!).map((g) => g.toFixed(1)), stepMs.toFixed(0)]);
}

const py = `
import time, numpy as np
n=${N}; a=np.random.rand(n,n).astype(np.float32); b=np.random.rand(n,n).astype(np.float32)
def t(f):
    f(); r=0; t0=time.perf_counter()
    while time.perf_counter()-t0<0.4: f(); r+=1
    return 2*n**3/((time.perf_counter()-t0)/r)/1e9
print(t(lambda: a@b), t(lambda: a.T@b.T), t(lambda: a@b.T))`;
const peer = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
const numpy = peer.status === 0 ? peer.stdout.trim().split(/\s+/).map(Number) : undefined;
rows.push(['numpy (peer)', ...(numpy ? numpy.map((g) => g.toFixed(1)) : ['peer unavailable', '', '']), '']);

console.log(`\n${N}^3 sgemm, GFLOP/s; transformer block (batch 16, seq 64, dim 128, 4 heads, MLP 512) Adam step, ms`);
const header = ['backend', 'plain', 'A^T B^T', 'A B^T', 'train step ms'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
for (const r of [header, ...rows]) console.log(r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  '));
if (status.available && numpy) {
  const nb = gflops[NATIVE_BLAS]!;
  console.log(`\nratios: native-blas/wasm plain ${(nb.plain! / gflops.wasm!.plain!).toFixed(1)}x, transposed ${(nb['A^T B^T']! / gflops.wasm!['A^T B^T']!).toFixed(1)}x; native-blas/numpy plain ${(nb.plain! / numpy[0]!).toFixed(2)}`);
}
