// Training throughput of R3D at the released shape (B = 8, T = 100, C = 128, RGB 2048-d,
// depth 120 x 160) on every backend that loads here: `pnpm --filter @r3d-ts/trainer bench`.
// R3D_BENCH_BACKENDS=wasm,cpu narrows the list; R3D_BENCH_STEPS sets the timed steps.
//
// Each trainer step (`train()` end to end: batch order, collation, forward, loss, backward, AdamW,
// TensorBoard logging, the step callback) alternates with one bare step of the r3d-model bench
// (`packages/r3d-model/bench/workload.ts`: the same shape and backend, inputs already on the
// backend, the same AdamW, both steps through captureStep, nothing else): on a shared machine a
// drift in speed then slows both alike, and the ratio of the medians is what the trainer adds to
// the step.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultCandidates, selectBackend } from '@r3d-ts/backend';
import { type AnticipationSample, Rng } from '@r3d-ts/datasets';
import { createR3DModel, depthEncoder, rgbEncoder } from '@r3d-ts/r3d-model';
import * as tf from '@tensorflow/tfjs-core';
import { parseTrainConfig } from './config.js';
import { train } from './loop.js';
import { r3dTrainable } from './r3d.js';

const B = 8;
const T = 100;
const H = 120;
const W = 160;
const CLASSES = 20; // + NONE
const stepsFor = (backend: string): number => Number(process.env.R3D_BENCH_STEPS ?? (backend === 'cpu' ? 1 : 5));

/** The r3d-model bench's bare training step (its `bench/workload.ts`), or why it cannot run. */
interface BareStep {
  step(): void;
  dispose(): void;
}
interface R3DModules {
  bare: BareStep | string;
  /** `createR3DModel` of the module instance the bare step uses (variable names are counted per instance). */
  create: typeof createR3DModel;
}
async function r3dModules(): Promise<R3DModules> {
  // a sibling package's bench file, outside both packages' builds: imported by path (tsx runs it)
  const at = (path: string): string => new URL(`../../r3d-model/${path}`, import.meta.url).href;
  try {
    const workload = (await import(at('bench/workload.ts'))) as { r3dWorkload: (options: { capture: boolean }) => BareStep };
    const model = (await import(at('src/r3d.ts'))) as { createR3DModel: typeof createR3DModel };
    return { bare: workload.r3dWorkload({ capture: true }), create: model.createR3DModel };
  } catch (err) {
    return { bare: `r3d-model bench workload unavailable (${(err as Error).message.split('\n')[0]})`, create: createR3DModel };
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function samples(n: number, none: number, pad: number): AnticipationSample[] {
  const rng = new Rng(7);
  return Array.from({ length: n }, (_, i) => {
    const rgb = Float32Array.from({ length: T * 2048 }, () => rng.next());
    const depth = Float32Array.from({ length: T * H * W }, () => rng.next());
    const labels = Int32Array.from({ length: T }, (_, t) => Math.floor((t / T) * 4 + i) % CLASSES);
    // a hand-made sample of exactly T observed frames (cutting one from a longer video would copy them)
    return {
      id: `bench-${i}`,
      observationRatio: 0.3,
      observedLength: T,
      observedIndices: Int32Array.from({ length: T }, (_, t) => t),
      modalities: { rgb: { dim: 2048, data: rgb }, depth: { dim: H * W, data: depth, shape: [H, W] } },
      observedLabels: labels,
      futureStart: T,
      futureEnd: 2 * T,
      futureLabels: new Int32Array(T),
      videoLength: 2 * T,
      actions: Int32Array.from([1, 2, 3, none, pad, pad, pad, pad]),
      durations: Float32Array.from([0.2, 0.5, 0.3, 0, 0, 0, 0, 0]),
      durationMask: Uint8Array.from([1, 1, 1, 0, 0, 0, 0, 0]),
      lastObservedAction: labels[T - 1]!,
      transition: labels[T - 1] !== 1,
      weight: labels[T - 1] !== 1 ? 10 : 1,
    };
  });
}

async function benchOne(backend: string): Promise<string> {
  // a second attempt at a tfjs-node binding repeats every kernel registration warning: keep the table readable
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!/is already registered/.test(String(args[0]))) warn(...args);
  };
  try {
    await selectBackend({ backend });
  } catch (err) {
    return `${backend.padEnd(16)} unavailable (${(err as Error).message.split('\n')[0].slice(0, 100)})`;
  } finally {
    console.warn = warn;
  }
  const steps = stepsFor(backend);
  const { bare, create } = await r3dModules();
  if (typeof bare !== 'string') bare.step(); // its warm-up: kernels compiled, optimiser slots created
  const model = r3dTrainable(create({ numClasses: CLASSES + 1, rgb: rgbEncoder(2048), partner: depthEncoder(H, W), seed: 1 }));
  const data = samples(B * (steps + 1), model.labels.none, model.labels.pad);
  const out = mkdtempSync(join(tmpdir(), 'r3d-bench-'));
  const trainerMs: number[] = [];
  const bareMs: number[] = [];
  // CPU time (user + sys, every thread of the process) beside the wall time: on a loaded machine it moves less
  const trainerCpu: number[] = [];
  const bareCpu: number[] = [];
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let resumed = performance.now();
  let resumedCpu = cpuMs();
  const load = loadavg()[0]!;
  try {
    await train({
      model,
      labels: model.labels,
      trainSamples: data,
      config: parseTrainConfig({ epochs: 1, warmupEpochs: 0, batchSize: B, rankMonitor: { enabled: false } }),
      outDir: out,
      onStep: () => {
        trainerMs.push(performance.now() - resumed);
        trainerCpu.push(cpuMs() - resumedCpu);
        // the first trainer step compiles kernels and allocates: the bare step after it is not timed either
        if (typeof bare !== 'string') {
          const [t0, c0] = [performance.now(), cpuMs()];
          bare.step();
          if (trainerMs.length > 1) {
            bareMs.push(performance.now() - t0);
            bareCpu.push(cpuMs() - c0);
          }
        }
        resumed = performance.now();
        resumedCpu = cpuMs();
      },
    });
  } finally {
    model.model.dispose();
    if (typeof bare !== 'string') bare.dispose();
    rmSync(out, { recursive: true, force: true });
  }
  const timed = trainerMs.slice(1);
  const ms = median(timed);
  const cpu = median(trainerCpu.slice(1));
  const head = `${backend.padEnd(16)} ${((1000 * B) / ms).toFixed(2).padStart(8)} samples/s  trainer ${ms.toFixed(0)} ms/step (${Math.min(...timed).toFixed(0)}-${Math.max(...timed).toFixed(0)})`;
  const tail = `median of ${timed.length} after 1 warm-up; tf backend ${tf.getBackend()}; load ${load.toFixed(1)}`;
  if (typeof bare === 'string') return `${head}   ${bare}   (${tail})`;
  const b = median(bareMs);
  const bc = median(bareCpu);
  const wall = `bare step ${b.toFixed(0)} ms (${Math.min(...bareMs).toFixed(0)}-${Math.max(...bareMs).toFixed(0)})   ratio ${(ms / b).toFixed(2)}x`;
  return `${head}   ${wall}   CPU ms/step trainer ${cpu.toFixed(0)} / bare ${bc.toFixed(0)} = ${(cpu / bc).toFixed(2)}x   (${tail}, alternating)`;
}

const wanted = process.env.R3D_BENCH_BACKENDS?.split(',').map((s) => s.trim()) ?? defaultCandidates.map((c) => c.name);
console.log(`R3D training throughput, released shape: B=${B}, T=${T}, C=128, rgb 2048-d, depth ${H}x${W}: the trainer end to end vs the r3d-model bench's bare step`);
for (const name of wanted) console.log(await benchOne(name));
