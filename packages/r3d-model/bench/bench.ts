/**
 * Bench of the R3D model: ms per training step (forward + loss + backward + Adam step) at B=8,
 * T=100, C=128, RGB 2048, depth 120x160, 20 classes, and ms per evaluation forward at B=1,
 * T=300, on every backend the selector knows (the native TensorFlow binding, native-blas, wasm,
 * cpu; an unavailable one says why); then the same two numbers for the PyTorch peer
 * (bench/peer.py under /usr/bin/python3, when torch imports) and the ratios of the medians.
 * Each figure is the median of --steps timed runs after a warm-up, with the range beside it: the
 * machine is shared, so single runs swing. native-blas uses R3D_BLAS_THREADS OpenBLAS threads
 * (default: every core; 1 is steadier on a loaded 2-core machine).
 *
 *   pnpm --filter @r3d-ts/r3d-model bench [-- --backends native-blas,wasm --steps 5 --profile]
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { defaultCandidates, selectBackend } from '@r3d-ts/backend';
import { createR3DModel, depthEncoder, r3dLoss, rgbEncoder } from '../src/index.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
// 'tensorflow' covers both the GPU and the CPU binding.
const allBackends = [...new Set(defaultCandidates.map((c) => c.backend))];
const backends = arg('backends', allBackends.join(',')).split(',');
const steps = Number(arg('steps', '3'));
const profile = args.includes('--profile');
const N = 20;

interface Timing {
  median: number;
  min: number;
  max: number;
}

function timeIt(fn: () => void, runs: number): Timing {
  fn(); // warm-up: kernels compiled, optimiser slots created
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const mid = ms.length >> 1;
  const median = ms.length % 2 ? ms[mid]! : (ms[mid - 1]! + ms[mid]!) / 2;
  return { median, min: ms[0]!, max: ms[ms.length - 1]! };
}

const fmt = (t: Timing): string => `${t.median.toFixed(0).padStart(6)} ms (${t.min.toFixed(0)}-${t.max.toFixed(0)})`;

async function benchBackend(name: string): Promise<{ train: Timing; eval: Timing } | undefined> {
  const warn = console.warn;
  try {
    // a native binding that half-loads prints one line per kernel: keep the bench readable
    if (name.startsWith('tensorflow')) console.warn = () => undefined;
    await selectBackend({ backend: name });
  } catch (err) {
    console.log(`${name.padEnd(10)} unavailable: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  } finally {
    console.warn = warn;
  }
  const model = createR3DModel({ numClasses: N, rgb: rgbEncoder(2048), partner: depthEncoder(120, 160), fuser: { name: 'rtf' }, seed: 1 });
  const B = 8;
  const T = 100;
  const pad = model.config.padIndex;
  const rgb = tf.randomUniform([B, T, 2048], 0, 1, 'float32', 1);
  const depth = tf.randomUniform([B, T, 120, 160], 0, 1, 'float32', 2);
  const labels = Array.from({ length: B * T }, (_, i) => (i * 7) % N);
  const action = Array.from({ length: B * 8 }, (_, i) => (i * 3) % N);
  const duration = new Array(B * 8).fill(1 / 8);
  const optimizer = tf.train.adam(1e-4);
  const vars = model.trainableVariables();
  const step = () => {
    const cost = optimizer.minimize(
      () => r3dLoss(model.apply({ rgb, partner: depth }, { training: true }), { labels, action, duration }, { padIndex: pad }).total,
      true,
      vars,
    )!;
    cost.dataSync();
    cost.dispose();
  };
  const runs = name === 'cpu' ? 1 : steps;
  const train = timeIt(step, runs);
  if (profile) {
    const info = await tf.profile(step);
    const byKernel = new Map<string, number>();
    for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
    const total = [...byKernel.values()].reduce((a, v) => a + v, 0);
    console.log(`${name} profile of one training step (kernel ms, top 10 of ${total.toFixed(0)} ms):`);
    for (const [k, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${k.padEnd(22)} ${ms.toFixed(1).padStart(8)} ms  ${((100 * ms) / total).toFixed(0).padStart(3)}%`);
  }
  tf.dispose([rgb, depth]);
  optimizer.dispose();
  const rgb1 = tf.randomUniform([1, 300, 2048], 0, 1, 'float32', 3);
  const depth1 = tf.randomUniform([1, 300, 120, 160], 0, 1, 'float32', 4);
  const evaluation = timeIt(() => {
    const out = model.apply({ rgb: rgb1, partner: depth1 });
    out.action.dataSync();
    tf.dispose(out);
  }, runs);
  tf.dispose([rgb1, depth1]);
  model.dispose();
  const threads = name === 'native-blas' ? `, R3D_BLAS_THREADS=${process.env.R3D_BLAS_THREADS ?? 'all cores'}` : '';
  console.log(`${name.padEnd(11)} train step ${fmt(train)}   eval forward ${fmt(evaluation)}   (B=8 T=100 / B=1 T=300, median of ${runs}${threads})`);
  return { train, eval: evaluation };
}

interface PeerResult {
  threads: number;
  train_ms: number;
  eval_ms: number;
  train_range?: [number, number];
  eval_range?: [number, number];
}

function peer(): PeerResult[] | undefined {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'peer.py');
  const run = spawnSync('/usr/bin/python3', [script, '1', '2'], { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) {
    console.log(`pytorch    peer unavailable (${(run.stderr || run.error?.message || 'no /usr/bin/python3').trim().split('\n').pop()})`);
    return undefined;
  }
  const parsed = JSON.parse(run.stdout.trim().split('\n').pop()!);
  for (const r of parsed.results as PeerResult[]) {
    const t = (median: number, range?: [number, number]): Timing => ({ median, min: range?.[0] ?? median, max: range?.[1] ?? median });
    console.log(`pytorch ${String(r.threads).padStart(1)}t  train step ${fmt(t(r.train_ms, r.train_range))}   eval forward ${fmt(t(r.eval_ms, r.eval_range))}   (torch ${parsed.torch}, ${r.threads} thread${r.threads > 1 ? 's' : ''}, median of 5)`);
  }
  return parsed.results;
}

const results = new Map<string, { train: Timing; eval: Timing }>();
for (const name of backends) {
  const r = await benchBackend(name);
  if (r) results.set(name, r);
}
const peers = peer();
if (peers) {
  for (const [name, r] of results) {
    for (const p of peers) {
      console.log(`ratio ${name}/pytorch-${p.threads}t: train ${(r.train.median / p.train_ms).toFixed(2)}x   eval ${(r.eval.median / p.eval_ms).toFixed(2)}x   (>1 = TypeScript slower)`);
    }
  }
}
