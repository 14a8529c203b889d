// Forward and forward+backward time of every fuser at B=8, T=100, C=128 on each available
// backend, and the authors' fuser in PyTorch beside it when /usr/bin/python3 has torch.
//   pnpm --filter @r3d-ts/rtf-fuser bench
//   R3D_BENCH_BACKENDS=tensorflow,wasm R3D_BENCH_ITERS=20 pnpm --filter @r3d-ts/rtf-fuser bench (tensorflow: where tfjs-node loads)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@r3d-ts/backend';
import { createFuser, type FuserName, type FuserOptions } from '../src/index.js';

const B = 8;
const T = 100;
const C = 128;
const backends = (process.env.R3D_BENCH_BACKENDS ?? 'native-blas,wasm,cpu').split(',').filter(Boolean);
const iters = (backend: string): number => Number(process.env.R3D_BENCH_ITERS ?? (backend === 'cpu' ? 1 : 10));

const FUSERS: Array<[string, FuserName, FuserOptions]> = [
  ['rtf (bn-gamma, 0.1)', 'rtf', { selection: 'bn-gamma', ratio: 0.1 }],
  ['rtf (variance, 0.3)', 'rtf', { selection: 'variance', ratio: 0.3, batchNorm: false }],
  ['rtf (svd-energy, 0.3)', 'rtf', { selection: 'svd-energy', ratio: 0.3, batchNorm: false }],
  ['sa-fuser', 'sa-fuser', {}],
  ['hard-swap (variance, 0.3)', 'hard-swap', { selection: 'variance', ratio: 0.3, batchNorm: false }],
  ['concat', 'concat', {}],
  ['mean', 'mean', {}],
  ['late', 'late', {}],
];

function timeIt(n: number, fn: () => void): number {
  fn(); // warm-up: kernel set-up, wasm memory growth
  const start = performance.now();
  for (let i = 0; i < n; i++) fn();
  return (performance.now() - start) / n;
}

async function main(): Promise<void> {
  console.log(`fuser bench: B=${B}, T=${T}, C=${C}; forward = training-mode apply, backward = gradients of every weight and both inputs`);
  for (const backend of backends) {
    try {
      await selectBackend({ backend });
    } catch (err) {
      console.log(`\n${backend}: unavailable (${err instanceof Error ? err.message : String(err)})`);
      continue;
    }
    const n = iters(backend);
    console.log(`\n${backend} (${n} timed iteration${n === 1 ? '' : 's'} after 1 warm-up)`);
    console.log('| fuser | forward ms | forward+backward ms |');
    console.log('|---|---|---|');
    // Variables, so that one backward pass gives the gradients of the weights and of both inputs.
    const x = tf.variable(tf.randomNormal([B, T, C], 0, 1, 'float32', 1)) as tf.Variable<tf.Rank.R3>;
    const y = tf.variable(tf.randomNormal([B, T, C], 0, 1, 'float32', 2)) as tf.Variable<tf.Rank.R3>;
    for (const [label, name, options] of FUSERS) {
      const fuser = createFuser(name, { seed: 3, ...options });
      const forward = timeIt(n, () => {
        tf.tidy(() => {
          fuser.apply(x, y, { training: true }).fused.dataSync();
        });
      });
      const both = timeIt(n, () => {
        tf.tidy(() => {
          const loss = (): tf.Scalar => tf.mean(tf.square(fuser.apply(x, y, { training: true }).fused)) as tf.Scalar;
          const { grads } = tf.variableGrads(loss, [...fuser.trainableVariables, x, y]);
          Object.values(grads).forEach((t) => t.dataSync());
        });
      });
      console.log(`| ${label} | ${forward.toFixed(1)} | ${both.toFixed(1)} |`);
      fuser.dispose();
    }
    tf.dispose([x, y]);
  }
  const peer = spawnSync('/usr/bin/python3', [fileURLToPath(new URL('./peer.py', import.meta.url)), String(B), String(T), String(C)], { encoding: 'utf8' });
  if (peer.status === 0) console.log(`\n${peer.stdout.trim()}`);
  else console.log(`\nPyTorch: peer unavailable (${(peer.stderr || peer.error?.message || '').trim().split('\n').pop()})`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
