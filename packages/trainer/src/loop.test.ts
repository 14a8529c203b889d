import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from './checkpoint.js';
import { parseTrainConfig } from './config.js';
import { NonFiniteLossError } from './errors.js';
import { train } from './loop.js';
import type { AnticipationOutputs } from './model.js';
import { tinyData } from './test-support/synthetic.js';
import { TinyModel } from './test-support/tiny-model.js';

const data = tinyData({ seed: 5, videos: 12, validation: 6 });
const dims = { rgb: 16, depth: 16 };
const config = (over: Record<string, unknown> = {}) =>
  parseTrainConfig({ epochs: 5, batchSize: 8, lr: 1e-2, warmupEpochs: 1, seed: 10, rankMonitor: { samples: 4 }, ...over });

describe.each(testBackends())('train (tiny model) on %s', (backend) => {
  const root = mkdtempSync(join(tmpdir(), `r3d-trainer-loop-${backend}-`));
  beforeAll(async () => {
    await selectBackend({ backend });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('lowers the loss, keeps the tensor count flat across epochs, logs each epoch with effective ranks', async () => {
    const model = new TinyModel(data.labels, dims, 16, 3);
    const out = join(root, 'basic');
    const result = await train({ model, trainSamples: data.train, validationSamples: data.validation, labels: data.labels, config: config(), outDir: out });
    const h = result.history;
    expect(h).toHaveLength(5);
    expect(h[4].trainLoss).toBeLessThan(h[0].trainLoss * 0.8);
    expect(h[4].numTensors).toBe(h[0].numTensors);
    const lines = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(Object.keys(lines[0].effectiveRank).sort()).toEqual(['after.depth', 'after.rgb', 'before.depth', 'before.rgb', 'fused']);
    expect(lines[0].effectiveRank.fused).toBeGreaterThan(1);
    expect(lines[0].validation.cells).toHaveLength(8);
    expect(loadCheckpoint(join(out, 'last')).state.progress.epoch).toBe(5);
    expect(loadCheckpoint(join(out, 'best')).state.metrics?.meanMoc).toBe(result.best?.metric);
    model.dispose();
  });

  it('is reproducible bit for bit, and a resumed run equals an uninterrupted one', async () => {
    const weightsAfter = async (dir: string, phases: number[]): Promise<Float32Array[]> => {
      const model = new TinyModel(data.labels, dims, 16, 3);
      for (const [i, epochs] of phases.entries()) {
        await train({ model: i === 0 ? model : reload(model), trainSamples: data.train, validationSamples: data.validation, labels: data.labels, config: config({ epochs: 4, checkpointEverySteps: 3 }), outDir: dir, resume: i > 0, stopAfterEpochs: epochs });
      }
      const w = Object.values(model.trainableVariables).map((v) => v.dataSync() as Float32Array);
      model.dispose();
      return w;
    };
    // a fresh model object each phase, as a new process would have
    let fresh: TinyModel | undefined;
    const reload = (m: TinyModel): TinyModel => {
      fresh?.dispose();
      fresh = new TinyModel(data.labels, dims, 16, 99); // different init: everything must come from the checkpoint
      m.setWeights(fresh.getWeights());
      return m;
    };
    const a = await weightsAfter(join(root, 'a'), [4]);
    const b = await weightsAfter(join(root, 'b'), [4]);
    const c = await weightsAfter(join(root, 'c'), [1, 2, 1]);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    const log = readFileSync(join(root, 'c', 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.map((l) => l.epoch)).toEqual([1, 2, 3, 4]);
    fresh?.dispose();
  });

  it('stops on a NaN loss naming the step and keeps the last good checkpoint', async () => {
    const model = new TinyModel(data.labels, dims, 16, 3);
    const out = join(root, 'nan');
    let steps = 0;
    const poisoned = Object.assign(Object.create(Object.getPrototypeOf(model)), model, {
      loss(o: AnticipationOutputs, batch: Parameters<TinyModel['loss']>[1]) {
        steps += 1;
        const l = model.loss(o, batch);
        return steps === 9 ? tf.mul(l, Number.NaN) : l;
      },
    }) as TinyModel;
    // 12 videos x 3 ratios = 36 samples = 5 steps per epoch: step 9 is in epoch 2
    const run = train({ model: poisoned, trainSamples: data.train, validationSamples: data.validation, labels: data.labels, config: config(), outDir: out });
    await expect(run).rejects.toThrow(NonFiniteLossError);
    await expect(run).rejects.toThrow(/loss became NaN at step 9 \(epoch 2\).*last good checkpoint is kept at/);
    const kept = loadCheckpoint(join(out, 'last'));
    expect(kept.state.progress.epoch).toBe(1);
    const lines = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ event: 'stopped', step: 9 });
    expect(existsSync(join(out, 'best'))).toBe(true);
    model.dispose();
  });
});
