import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@r3d-ts/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from './checkpoint.js';
import { parseTrainConfig } from './config.js';
import { TrainingStoppedError } from './errors.js';
import { train } from './loop.js';
import { signalExitCode, stopOnSignals } from './stop-signal.js';
import { tinyData } from './test-support/synthetic.js';
import { TinyModel } from './test-support/tiny-model.js';

const data = tinyData({ seed: 3, videos: 6, validation: 2 });
const config = parseTrainConfig({ epochs: 2, warmupEpochs: 1, batchSize: 4, rankMonitor: { enabled: false } });
const root = mkdtempSync(join(tmpdir(), 'r3d-trainer-stop-'));
beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('stopping a run', () => {
  it('an aborted signal stops at the next step with a last/ checkpoint that resumes to the uninterrupted weights', async () => {
    const weights = (m: TinyModel) => Object.values(m.trainableVariables).map((v) => Array.from(v.dataSync()));
    const straight = new TinyModel(data.labels, { rgb: 16, depth: 16 }, 8, 1);
    await train({ model: straight, trainSamples: data.train, validationSamples: data.validation, labels: data.labels, config, outDir: join(root, 'straight') });

    const dir = join(root, 'stopped');
    const model = new TinyModel(data.labels, { rgb: 16, depth: 16 }, 8, 1);
    const controller = new AbortController();
    const run = train({ model, trainSamples: data.train, validationSamples: data.validation, labels: data.labels, config, outDir: dir, signal: controller.signal, onStep: (e) => e.globalStep === 3 && controller.abort('SIGINT') });
    await expect(run).rejects.toThrow(TrainingStoppedError);
    const err = (await run.catch((e: unknown) => e)) as TrainingStoppedError;
    expect(err.exitCode).toBe(130);
    expect(err.message).toBe(`stopped by SIGINT after global step 3 (epoch 1, step 3 of 5); checkpoint saved in ${join(dir, 'last')}`);
    expect(loadCheckpoint(join(dir, 'last')).state.progress).toMatchObject({ epoch: 0, stepInEpoch: 3, globalStep: 3 });
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]); // lock released

    const fresh = new TinyModel(data.labels, { rgb: 16, depth: 16 }, 8, 99);
    const resumed = await train({ model: fresh, trainSamples: data.train, validationSamples: data.validation, labels: data.labels, config, outDir: dir, resume: true });
    expect(resumed.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(weights(fresh)).toEqual(weights(straight));
    [straight, model, fresh].forEach((m) => m.dispose());
  });

  it('stopOnSignals turns the first SIGINT/SIGTERM into an abort with the signal as reason', () => {
    const stop = stopOnSignals();
    try {
      process.emit('SIGTERM', 'SIGTERM');
      expect(stop.signal.aborted).toBe(true);
      expect(stop.signal.reason).toBe('SIGTERM');
      expect(stop.received).toBe('SIGTERM');
    } finally {
      stop.dispose();
    }
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });

  it('signalExitCode is 128 + the signal number', () => {
    expect([signalExitCode('SIGINT'), signalExitCode('SIGTERM'), signalExitCode('other')]).toEqual([130, 143, 1]);
  });
});
