// Training throughput of R3D at the released shape (B = 8, T = 100, C = 128, RGB 2048-d,
// depth 120 x 160) on every backend that loads here: `pnpm --filter @r3d-ts/trainer bench`.
// R3D_BENCH_BACKENDS=wasm,cpu narrows the list; R3D_BENCH_STEPS sets the timed steps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
const stepsFor = (backend: string): number => Number(process.env.R3D_BENCH_STEPS ?? (backend === 'cpu' ? 1 : 4));

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
  const model = r3dTrainable(createR3DModel({ numClasses: CLASSES + 1, rgb: rgbEncoder(2048), partner: depthEncoder(H, W), seed: 1 }));
  const data = samples(B * (steps + 1), model.labels.none, model.labels.pad);
  const out = mkdtempSync(join(tmpdir(), 'r3d-bench-'));
  const times: number[] = [];
  try {
    await train({
      model,
      labels: model.labels,
      trainSamples: data,
      config: parseTrainConfig({ epochs: 1, warmupEpochs: 0, batchSize: B, rankMonitor: { enabled: false } }),
      outDir: out,
      onStep: () => times.push(performance.now()),
    });
  } finally {
    model.model.dispose();
    rmSync(out, { recursive: true, force: true });
  }
  // the first step compiles kernels and allocates: time the steps after it
  const seconds = (times[times.length - 1] - times[0]) / 1000;
  const sps = (B * (times.length - 1)) / seconds;
  return `${backend.padEnd(16)} ${sps.toFixed(2).padStart(8)} samples/s  (${(1000 * seconds / (times.length - 1)).toFixed(0)} ms/step over ${times.length - 1} steps after 1 warm-up; tf backend ${tf.getBackend()})`;
}

const wanted = process.env.R3D_BENCH_BACKENDS?.split(',').map((s) => s.trim()) ?? defaultCandidates.map((c) => c.name);
console.log(`R3D training throughput, released shape: B=${B}, T=${T}, C=128, rgb 2048-d, depth ${H}x${W}, AdamW step included`);
for (const name of wanted) console.log(await benchOne(name));
