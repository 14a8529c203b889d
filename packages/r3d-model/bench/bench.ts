/**
 * Bench of the R3D model: ms per training step (forward + loss + backward + AdamW step) at B=8,
 * T=100, C=128, RGB 2048, depth 120x160, 20 classes, and ms per evaluation forward at B=1,
 * T=300, on every backend the selector knows (the native TensorFlow binding, native-blas, wasm,
 * cpu; an unavailable one says why), side by side with the same model in PyTorch (bench/peer.py
 * under /usr/bin/python3, when torch imports), and the ratios of the medians.
 *
 * The two sides alternate run by run (one TypeScript step, one PyTorch step, ...): the machine is
 * shared and its speed drifts over seconds, and a drift then slows both sides alike instead of
 * whichever happened to run second. Each figure is the median of the timed runs after two warm-up
 * rounds (as the peer's), with the range beside it. native-blas uses R3D_BLAS_THREADS threads (default: every core),
 * wasm R3D_WASM_THREADS (default: the cores, at most 4).
 * Each backend also prints the FLOPs of the step's and the forward's matrix products and the
 * achieved fraction of its GEMM peak measured right then, and the run prints the load average.
 * Step and forward run through captureStep (@r3d-ts/step-capture) and are replayed: the step's
 * dropout seed is an input tensor, so its masks (tf.dropout's, bit for bit) change every step. A
 * second line times the same step eager against captured.
 *
 *   pnpm --filter @r3d-ts/r3d-model bench [-- --backends native-blas,wasm --steps 15 --evals 45 --peer-threads 1,2 --profile]
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { defaultCandidates, selectBackend } from '@r3d-ts/backend';
import type { CaptureStatus } from '@r3d-ts/step-capture';
import { matmulFlops, measureGemmPeak, ownKernels, r3dWorkload } from './workload.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
// 'tensorflow' covers both the GPU and the CPU binding.
const allBackends = [...new Set(defaultCandidates.map((c) => c.backend))];
const backends = arg('backends', allBackends.join(',')).split(',');
const steps = Number(arg('steps', '15'));
const evals = Number(arg('evals', '45'));
const peerThreads = arg('peer-threads', '1,2').split(',').map(Number);
const profile = args.includes('--profile');

interface Timing {
  median: number;
  min: number;
  max: number;
}

function summarise(ms: number[]): Timing {
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

function timeOnce(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** A PyTorch peer process (`peer.py --serve`) that times one run per request. */
class Peer {
  private constructor(
    readonly threads: number,
    readonly torch: string,
    private readonly proc: ChildProcessWithoutNullStreams,
    private readonly lines: AsyncIterator<string>,
  ) {}

  static async start(threads: number): Promise<Peer | string> {
    const script = join(dirname(fileURLToPath(import.meta.url)), 'peer.py');
    // Passive waits: an idle multi-threaded peer must not spin on the cores our next run uses.
    // OpenMP's threads sleep at once; OpenBLAS's own worker threads (PyTorch's linear layers call
    // its sgemm) otherwise busy-wait 2^28 cycles, about 0.1 s, after each product, i.e. through
    // most of the TypeScript step that follows: on the 2-core VM that step took 73-76 ms after the
    // peer's with the spin and 57-66 ms with OPENBLAS_THREAD_TIMEOUT=4 (2^4 cycles), while the
    // peer's own step took 176-177 and 155-171 ms.
    const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', KMP_BLOCKTIME: '0', OPENBLAS_THREAD_TIMEOUT: '4' };
    const proc = spawn('/usr/bin/python3', [script, '--serve', String(threads)], { env });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const failed = new Promise<string>((resolve) => {
      proc.on('error', (err) => resolve(err.message));
      proc.on('exit', () => resolve(stderr.trim().split('\n').pop() || 'peer exited'));
    });
    const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
    const first = await Promise.race([lines.next().then((r) => (r.done ? undefined : r.value)), failed]);
    if (first === undefined || !first.startsWith('{')) return first ?? 'peer exited';
    const ready = JSON.parse(first) as { torch: string };
    return new Peer(threads, ready.torch, proc, lines);
  }

  async time(what: 'train' | 'eval'): Promise<number> {
    this.proc.stdin.write(`${what}\n`);
    const line = await this.lines.next();
    if (line.done) throw new Error(`PyTorch peer (${this.threads} threads) exited mid-bench`);
    return (JSON.parse(line.value) as { ms: number }).ms;
  }

  close(): void {
    this.proc.stdin.end('quit\n');
  }
}

/** The released training step eager and through captureStep, alternating run by run. */
function timeEagerAgainstCaptured(rounds: number): { eager: Timing; captured: Timing; mode: string } {
  const eager = r3dWorkload();
  const captured = r3dWorkload({ capture: true });
  try {
    for (let w = 0; w < 3; w++) {
      eager.step();
      captured.step();
    }
    const times = { eager: [] as number[], captured: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      times.eager.push(timeOnce(eager.step));
      times.captured.push(timeOnce(captured.step));
    }
    const c = captured.captureStatus()!.step;
    return { eager: summarise(times.eager), captured: summarise(times.captured), mode: c.mode === 'eager' ? `eager: ${c.reason}` : c.mode };
  } finally {
    eager.dispose();
    captured.dispose();
  }
}

const fmt = (t: Timing): string => `${t.median.toFixed(0).padStart(6)} ms (${t.min.toFixed(0)}-${t.max.toFixed(0)})`;

async function benchBackend(name: string, peers: Peer[]): Promise<void> {
  const warn = console.warn;
  try {
    // a native binding that half-loads prints one line per kernel: keep the bench readable
    if (name.startsWith('tensorflow')) console.warn = () => undefined;
    await selectBackend({ backend: name });
  } catch (err) {
    console.log(`${name.padEnd(10)} unavailable: ${(err as Error).message.split('\n')[0]}`);
    return;
  } finally {
    console.warn = warn;
  }
  // both through captureStep, replayed from the third call (the status line says so, or why not)
  const { step, evaluate, dispose, captureStatus } = r3dWorkload({ capture: true });
  // warm-up, two rounds as the peer's: kernels compiled, optimiser slots created, buffer pool filled
  for (let w = 0; w < 2; w++) {
    step();
    evaluate();
  }
  // the cpu backend takes seconds a step: one round of each
  const rounds = name === 'cpu' ? 1 : steps;
  const evalsPerRound = name === 'cpu' ? 1 : Math.max(1, Math.round(evals / steps));
  const ours = { train: [] as number[], eval: [] as number[] };
  const theirs = new Map(peers.map((p) => [p, { train: [] as number[], eval: [] as number[] }]));
  for (let r = 0; r < rounds; r++) {
    ours.train.push(timeOnce(step));
    for (const p of peers) theirs.get(p)!.train.push(await p.time('train'));
    for (let e = 0; e < evalsPerRound; e++) {
      ours.eval.push(timeOnce(evaluate));
      for (const p of peers) theirs.get(p)!.eval.push(await p.time('eval'));
    }
  }
  const status = captureStatus()!; // before tf.profile below, which runs them eagerly
  const train = summarise(ours.train);
  const evaluation = summarise(ours.eval);
  // the compute bound: FLOPs of the step's products against the GEMM peak measured now (cpu: one
  // profiled run of each would take as long as the bench, skip it)
  const flops = name === 'cpu' ? undefined : {
    train: matmulFlops(ownKernels((await tf.profile(step)).kernels)),
    eval: matmulFlops(ownKernels((await tf.profile(evaluate)).kernels)),
    peak: measureGemmPeak(),
  };
  if (profile) {
    const info = await tf.profile(step);
    const byKernel = new Map<string, number>();
    for (const k of ownKernels(info.kernels)) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
    const total = [...byKernel.values()].reduce((a, v) => a + v, 0);
    console.log(`${name} profile of one training step (kernel ms, top 10 of ${total.toFixed(0)} ms):`);
    for (const [k, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${k.padEnd(22)} ${ms.toFixed(1).padStart(8)} ms  ${((100 * ms) / total).toFixed(0).padStart(3)}%`);
  }
  dispose();
  const mode = (c: CaptureStatus): string => (c.mode === 'eager' ? `eager (${c.reason})` : c.mode);
  const eagerStep = name === 'cpu' ? undefined : timeEagerAgainstCaptured(rounds);
  const threads =
    name === 'native-blas'
      ? `, R3D_BLAS_THREADS=${process.env.R3D_BLAS_THREADS ?? 'all cores'}`
      : name === 'wasm'
        ? `, R3D_WASM_THREADS=${process.env.R3D_WASM_THREADS || 'auto (the cores, at most 4)'}`
        : '';
  console.log(`${name.padEnd(11)} train step ${fmt(train)}   eval forward ${fmt(evaluation)}   (B=8 T=100 / B=1 T=300, median of ${ours.train.length} / ${ours.eval.length}${threads})`);
  if (flops) {
    const rate = (f: number, t: Timing): string => `${(f / 1e9).toFixed(2)} GFLOP in products, ${(f / t.median / 1e6).toFixed(0)} GFLOP/s at the median = ${((100 * f) / t.median / 1e-3 / flops.peak).toFixed(0)}% of peak`;
    console.log(`${name.padEnd(11)} train step ${rate(flops.train, train)}; eval forward ${rate(flops.eval, evaluation)} (GEMM peak measured now: ${(flops.peak / 1e9).toFixed(0)} GFLOP/s, best of 10 at 512^3 and at the depth projection's 800x19200x128)`);
  }
  console.log(`${name.padEnd(11)} captureStep: train step ${mode(status.step)}; eval forward ${mode(status.evaluate)}`);
  if (eagerStep) {
    console.log(`${name.padEnd(11)} train step without captureStep: eager ${fmt(eagerStep.eager)}, captured ${fmt(eagerStep.captured)} (${eagerStep.mode}), alternating`);
  }
  for (const p of peers) {
    const t = theirs.get(p)!;
    const [pt, pe] = [summarise(t.train), summarise(t.eval)];
    console.log(`pytorch ${p.threads}t  train step ${fmt(pt)}   eval forward ${fmt(pe)}   (torch ${p.torch}, ${p.threads} thread${p.threads > 1 ? 's' : ''}, alternating with ${name})`);
    console.log(`ratio ${name}/pytorch-${p.threads}t: train ${(train.median / pt.median).toFixed(2)}x   eval ${(evaluation.median / pe.median).toFixed(2)}x   (>1 = TypeScript slower)`);
  }
}

const [load1] = loadavg();
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores (other jobs slow both sides; the ratios compare one run's alternating halves)`);
const peers: Peer[] = [];
for (const threads of peerThreads) {
  const started = await Peer.start(threads);
  if (typeof started === 'string') {
    console.log(`pytorch ${threads}t peer unavailable (${started}); TypeScript figures only`);
    break;
  }
  peers.push(started);
}
try {
  for (const name of backends) await benchBackend(name, peers);
} finally {
  for (const p of peers) p.close();
}
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end (${load1!.toFixed(2)} at the start)`);
