// Kernel profile (tf.profile) of one R3D training step and one evaluation forward, the bench's
// workload (B=8, T=100, C=128, RGB 2048, depth 120x160, 20 classes; eval B=1, T=300), on the
// backends named in argv (default native-blas). Shows which kernels @r3d-ts/native-blas should
// move into C next.
//   pnpm --filter @r3d-ts/r3d-model bench:profile -- [native-blas,wasm,cpu] [--top 30] [--calls 20] [--steps 5]
// (--top 0 without --calls: wall times of --steps steps only, no profile)
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@r3d-ts/backend';
import { getBlasThreads, nativeBlasStatus } from '@r3d-ts/native-blas';
import { matmulFlops, ownKernels, r3dWorkload } from './workload.js';

const argv = process.argv.slice(2);
const backends = (argv.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) ?? 'native-blas').split(',');
const topIdx = argv.indexOf('--top');
const top = topIdx >= 0 ? Number(argv[topIdx + 1]) : 25;
const stepsIdx = argv.indexOf('--steps');
const steps = stepsIdx >= 0 ? Number(argv[stepsIdx + 1]) : 1;
const callsIdx = argv.indexOf('--calls');
const calls = callsIdx >= 0 ? Number(argv[callsIdx + 1]) : 0;
const status = nativeBlasStatus();
console.log(status.available ? `native-blas: ${status.config}, ${getBlasThreads()} thread(s)` : `native-blas unavailable: ${status.reason}`);

async function report(label: string, f: () => void): Promise<void> {
  f(); // warm-up
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
    if (process.env.R3D_PROFILE_SYS) console.log(`  user ${(c.user / 1000).toFixed(0)} sys ${(c.system / 1000).toFixed(0)}`);
  }
  walls.sort((p, q) => p - q);
  cpus.sort((p, q) => p - q);
  const wall = walls[Math.floor(walls.length / 2)]!;
  if (top === 0 && calls === 0) {
    // CPU time (all threads of the process) is far steadier than wall time on a shared machine.
    console.log(`${label}: ${walls.map((w) => w.toFixed(0)).join(' ')} ms wall (median ${wall.toFixed(0)}), cpu ${cpus.map((w) => w.toFixed(0)).join(' ')} ms`);
    return;
  }
  const info = { kernels: ownKernels((await tf.profile(f)).kernels) };
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += k.kernelTimeMs as number;
    e.calls++;
    byKernel.set(k.name, e);
  }
  const total = [...byKernel.values()].reduce((a, v) => a + v.ms, 0);
  if (calls > 0) {
    console.log(`${label}: slowest ${calls} kernel calls`);
    for (const k of [...info.kernels].sort((a, b) => (b.kernelTimeMs as number) - (a.kernelTimeMs as number)).slice(0, calls)) {
      console.log(`  ${k.name.padEnd(24)} ${(k.kernelTimeMs as number).toFixed(1).padStart(8)} ms  in ${JSON.stringify(k.inputShapes)} out ${JSON.stringify(k.outputShapes)}`);
    }
  }
  console.log(`${label}: ${wall.toFixed(0)} ms wall (median of ${steps}), ${total.toFixed(0)} ms in ${info.kernels.length} kernel calls, ${(matmulFlops(info.kernels) / 1e9).toFixed(2)} GFLOP in products`);
  for (const [k, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(`  ${k.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms ${((100 * e.ms) / total).toFixed(0).padStart(3)}%  ${String(e.calls).padStart(5)} calls`);
  }
}

for (const name of backends) {
  await selectBackend({ backend: name });
  const workload = r3dWorkload();
  await report(`${name} training step`, workload.step);
  await report(`${name} eval forward`, workload.evaluate);
  workload.dispose();
}
