import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@r3d-ts/backend';
import { type AnticipationSample, Rng } from '@r3d-ts/datasets';
import { createR3DModel, depthEncoder, rgbEncoder } from '@r3d-ts/r3d-model';
import { R3DDropoutMultiplier } from '@r3d-ts/kernel-names';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTrainConfig } from './config.js';
import { type StepEvent, train } from './loop.js';
import { r3dTrainable } from './r3d.js';

const CLASSES = 5; // + NONE = 6 outputs, pad 7
const Q = 4;

/** Hand-made samples: `frames(i)` observed frames each, random RGB and depth, a few classes. */
function samples(n: number, frames: (i: number) => number): AnticipationSample[] {
  const rng = new Rng(11);
  return Array.from({ length: n }, (_, i) => {
    const t = frames(i);
    const labels = Int32Array.from({ length: t }, (_, k) => (Math.floor((k / t) * 3) + i) % CLASSES);
    const last = labels[t - 1]!;
    return {
      id: `s${i}`,
      observationRatio: 0.3,
      observedLength: t,
      observedIndices: Int32Array.from({ length: t }, (_, k) => k),
      modalities: { rgb: { dim: 8, data: Float32Array.from({ length: t * 8 }, () => rng.next()) }, depth: { dim: 12, data: Float32Array.from({ length: t * 12 }, () => rng.next()), shape: [3, 4] } },
      observedLabels: labels,
      futureStart: t,
      futureEnd: 2 * t,
      futureLabels: new Int32Array(t),
      videoLength: 2 * t,
      actions: Int32Array.from([(last + 1) % CLASSES, CLASSES, CLASSES + 2, CLASSES + 2]),
      durations: Float32Array.from([0.6, 0, 0, 0]),
      durationMask: Uint8Array.from([1, 0, 0, 0]),
      lastObservedAction: last,
      transition: true,
      weight: 10,
    };
  });
}

const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer));

describe.each(testBackends())('the captured training step on %s', (backend) => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  async function run(captureStep: boolean, data: AnticipationSample[]) {
    await selectBackend({ backend });
    const model = r3dTrainable(createR3DModel({ numClasses: CLASSES + 1, rgb: rgbEncoder(8), partner: depthEncoder(3, 4), hidden: 16, heads: 2, ffnDim: 32, numQueries: Q, maxPositions: 20, encoderLayers: 1, seed: 2 }));
    const out = mkdtempSync(join(tmpdir(), 'r3d-captured-'));
    dirs.push(out);
    const events: StepEvent[] = [];
    const config = parseTrainConfig({ epochs: 2, warmupEpochs: 0, batchSize: 2, seed: 5, gradClipNorm: 1, rankMonitor: { enabled: false } });
    const tensors: number[] = [];
    await train({ model, labels: model.labels, trainSamples: data, config, outDir: out, captureStep, onStep: (e) => {
      events.push(e);
      tensors.push(tf.memory().numTensors);
    } });
    const weights = model.getWeights();
    const snapshot = Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, bits(v)]));
    tf.dispose(weights);
    const log = readFileSync(join(out, 'log.jsonl'), 'utf8');
    model.model.dispose();
    return { events, snapshot, tensors, epochLosses: log.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.event === 'epoch').map((r) => r.trainLoss) };
  }

  it('replays from the third step of a batch shape and trains bit for bit as the eager step (losses, weights, running statistics), with a flat tensor count', async () => {
    const data = samples(8, () => 6); // one batch shape: (2, 6)
    const eager = await run(false, data);
    const captured = await run(true, data);
    expect(eager.events.every((e) => e.capture === undefined)).toBe(true);
    expect(captured.events.map((e) => e.capture!.mode)).toEqual(['recording', 'recording', 'replay', 'replay', 'replay', 'replay', 'replay', 'replay']);
    expect(captured.events.map((e) => e.loss)).toEqual(eager.events.map((e) => e.loss));
    expect(captured.events.map((e) => e.gradNorm)).toEqual(eager.events.map((e) => e.gradNorm));
    expect(captured.epochLosses).toEqual(eager.epochLosses);
    expect(captured.snapshot).toEqual(eager.snapshot);
    expect(captured.tensors).toEqual(eager.tensors);
  });

  it('records each batch shape anew and still trains bit for bit as the eager step', async () => {
    const data = samples(8, (i) => 4 + (i % 3)); // padded batch lengths vary with the shuffle
    const eager = await run(false, data);
    const captured = await run(true, data);
    expect(captured.events.map((e) => e.loss)).toEqual(eager.events.map((e) => e.loss));
    expect(captured.snapshot).toEqual(eager.snapshot);
  });
});

describe('r3dTrainable.capturable', () => {
  it('is offered only where dropout masks come from a kernel (elsewhere each mask would read its seed back)', async () => {
    await selectBackend({ backend: 'cpu' });
    const withDropout = r3dTrainable(createR3DModel({ numClasses: CLASSES + 1, rgb: rgbEncoder(8), partner: depthEncoder(3, 4), hidden: 16, heads: 2, ffnDim: 32, numQueries: Q, encoderLayers: 1, seed: 2 }));
    const noDropout = r3dTrainable(createR3DModel({ numClasses: CLASSES + 1, rgb: rgbEncoder(8), partner: depthEncoder(3, 4), hidden: 16, heads: 2, ffnDim: 32, numQueries: Q, encoderLayers: 1, seed: 2, dropout: 0 }));
    expect(withDropout.capturable).toBeDefined();
    const kernel = tf.getKernel(R3DDropoutMultiplier, 'cpu')!;
    tf.unregisterKernel(R3DDropoutMultiplier, 'cpu');
    try {
      expect(withDropout.capturable).toBeUndefined();
      expect(noDropout.capturable).toBeDefined();
    } finally {
      tf.registerKernel(kernel);
    }
    withDropout.model.dispose();
    noDropout.model.dispose();
  });
});
