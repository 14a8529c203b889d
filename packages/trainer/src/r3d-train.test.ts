import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@r3d-ts/backend';
import { type AnticipationSample, samplesFromSequences } from '@r3d-ts/datasets';
import { SyntheticDataset } from '@r3d-ts/datasets/synthetic';
import { createR3DModel, depthEncoder, rgbEncoder } from '@r3d-ts/r3d-model';
import { eventFiles, readEvents } from '@r3d-ts/tensorboard/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrainConfig } from './config.js';
import { train } from './loop.js';
import { meanOverClasses, scoredFutureFrames } from './moc.js';
import { r3dTrainable } from './r3d.js';

/** MoC of always predicting the most frequent future class of the training windows. */
function majorityBaseline(trainSamples: AnticipationSample[], validation: AnticipationSample[], obs: number[], preds: number[]): number {
  const counts = new Map<number, number>();
  for (const s of trainSamples) for (const l of s.futureLabels.subarray(0, Math.floor(0.5 * s.videoLength))) if (l >= 0) counts.set(l, (counts.get(l) ?? 0) + 1);
  const major = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
  const cells = obs.flatMap((o) => preds.map((p) => meanOverClasses(
    validation.filter((s) => s.observationRatio === o).map((s) => {
      const g = s.futureLabels.subarray(0, scoredFutureFrames(o, p, s.videoLength).count);
      return { groundTruth: g, predicted: new Int32Array(g.length).fill(major) };
    }),
    { ignore: [-1] },
  ).moc));
  return cells.reduce((a, b) => a + b, 0) / cells.length;
}

describe('training a small R3D on the synthetic dataset (wasm)', () => {
  const out = mkdtempSync(join(tmpdir(), 'r3d-trainer-r3d-'));
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('beats the majority-class MoC, lowers the loss and keeps the tensor count flat', async () => {
    const ds = new SyntheticDataset({ seed: 1, count: 60, height: 12, width: 16 });
    const model = r3dTrainable(createR3DModel({
      numClasses: ds.noneClass + 1, padIndex: ds.padClass, ignoreIndices: [-1],
      rgb: rgbEncoder(256), partner: depthEncoder(12, 16), hidden: 32, heads: 4, ffnDim: 64, seed: 1,
    }));
    const labels = model.labels;
    const common = { labels, modalities: ['rgb', 'depth'] };
    const trainSamples = samplesFromSequences(ds.split('train'), { ...common, observationRatios: [0.2, 0.3, 0.5] });
    const validation = samplesFromSequences([...ds.split('val'), ...ds.split('test')], { ...common, observationRatios: [0.2, 0.3] });
    // a short, hot schedule (the released one is 60 epochs at 1e-3); clipping keeps it stable
    const config = parseTrainConfig({ epochs: 16, warmupEpochs: 1, lr: 1e-2, gradClipNorm: 1, batchSize: 8, seed: 1, rankMonitor: { samples: 8 } });
    const result = await train({ model, trainSamples, validationSamples: validation, labels, config, outDir: out });
    const h = result.history;
    const baseline = majorityBaseline(trainSamples, validation, config.evalObservationRatios, config.predictionRatios);
    const best = result.best!.metric;
    console.log(`R3D synthetic (wasm): val MoC best ${(100 * best).toFixed(2)}% (epoch ${result.best!.epoch}) (last epoch ${(100 * h.at(-1)!.validation!.meanMoc).toFixed(2)}%) vs majority-class ${(100 * baseline).toFixed(2)}%; loss ${h[0].trainLoss.toFixed(3)} -> ${h.at(-1)!.trainLoss.toFixed(3)}; ${h.at(-1)!.samplesPerSecond.toFixed(1)} samples/s`);
    expect(best).toBeGreaterThan(1.5 * baseline);
    expect(h.at(-1)!.validation!.meanMoc).toBeGreaterThan(1.3 * baseline);
    expect(h.at(-1)!.trainLoss).toBeLessThan(h[0].trainLoss * 0.85);
    expect(h[4].numTensors).toBe(h[0].numTensors); // epoch 5 vs epoch 1
    expect(h.at(-1)!.numTensors).toBe(h[0].numTensors);
    expect(Object.keys(h[0].effectiveRank!).sort()).toEqual(['after.depth', 'after.rgb', 'before.depth', 'before.rgb', 'fused']);

    // TensorBoard (on by default in <out>/tb): the loss terms add up to the loss; the RTF's alpha and bn-gamma scores each epoch
    const events = eventFiles(join(out, 'tb')).flatMap((f) => readEvents(readFileSync(f)));
    const at = (step: number) => new Map(events.filter((e) => e.step === step).flatMap((e) => e.summary?.value ?? []).map((v) => [v.tag, v]));
    const last = at(result.globalStep);
    const terms = ['segmentation', 'action', 'duration'].map((t) => last.get(`step/loss.${t}`)!.simpleValue!);
    expect(terms[0]! + terms[1]! + terms[2]!).toBeCloseTo(last.get('step/loss')!.simpleValue!, 4);
    expect(last.get('fuser/alpha')!.histo!.num).toBe(32);
    expect(last.get('fuser/channel_score/depth')!.histo!.num).toBe(32);
    expect(last.get('fuser/selected_score/rgb')!.histo!.num).toBe(3); // floor(0.1 * 32), the released ratio
    expect(last.get('fuser/selected_score/depth')!.histo!.max).toBeLessThanOrEqual(last.get('fuser/channel_score/depth')!.histo!.max);
    model.model.dispose();
  });
});
