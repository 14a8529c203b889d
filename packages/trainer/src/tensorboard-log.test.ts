import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@r3d-ts/backend';
import { eventFiles, readEvents, SummaryWriter, type TfEvent } from '@r3d-ts/tensorboard/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrainConfig } from './config.js';
import { type EpochRecord, type StepEvent, train } from './loop.js';
import { tinyData } from './test-support/synthetic.js';
import { TinyModel } from './test-support/tiny-model.js';

const data = tinyData({ seed: 5, videos: 12, validation: 6 });
const dims = { rgb: 16, depth: 16 };
const config = (over: Record<string, unknown> = {}) =>
  parseTrainConfig({ epochs: 3, batchSize: 8, lr: 1e-2, warmupEpochs: 1, seed: 10, rankMonitor: { samples: 4 }, ...over });
const f32 = Math.fround;

/** Scalars by tag -> step -> values (every occurrence, so a step logged twice shows), from every event file (CRCs verified). */
function scalarsIn(dir: string): { byTag: Map<string, Map<number, number[]>>; events: TfEvent[] } {
  const events = eventFiles(dir).flatMap((file) => readEvents(readFileSync(file)));
  const byTag = new Map<string, Map<number, number[]>>();
  for (const e of events) {
    for (const v of e.summary?.value ?? []) {
      if (v.simpleValue === undefined) continue;
      const steps = byTag.get(v.tag) ?? new Map<number, number[]>();
      steps.set(e.step, [...(steps.get(e.step) ?? []), v.simpleValue]);
      byTag.set(v.tag, steps);
    }
  }
  return { byTag, events };
}

function readLog(out: string): EpochRecord[] {
  return readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EpochRecord);
}

/** Every number of log.jsonl appears once in the event file, at the epoch's global step, rounded to float32. */
function expectEpochsMatch(byTag: Map<string, Map<number, number[]>>, log: EpochRecord[]): number {
  let compared = 0;
  const same = (tag: string, step: number, value: number) => {
    expect(byTag.get(tag)?.get(step), `${tag} at step ${step}`).toEqual([f32(value)]);
    compared++;
  };
  for (const r of log) {
    same('epoch/train_loss', r.globalStep, r.trainLoss);
    same('epoch/lr', r.globalStep, r.lr);
    same('epoch/samples_per_second', r.globalStep, r.samplesPerSecond);
    same('validation/moc_mean', r.globalStep, r.validation!.meanMoc);
    for (const c of r.validation!.cells) same(`validation/moc/obs${c.observationRatio}_pred${c.predictionRatio}`, r.globalStep, c.moc);
    for (const s of r.validation!.segmentation) same(`validation/segmentation/obs${s.observationRatio}`, r.globalStep, s.accuracy);
    for (const [k, v] of Object.entries(r.effectiveRank!)) same(`effective_rank/${k}`, r.globalStep, v);
  }
  return compared;
}

describe('TensorBoard event files of a training run', () => {
  const root = mkdtempSync(join(tmpdir(), 'r3d-trainer-tensorboard-'));
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('hold log.jsonl numbers per epoch, every step with its loss terms, and the model histograms', async () => {
    const model = new TinyModel(data.labels, dims, 16, 3);
    const out = join(root, 'basic');
    const steps: StepEvent[] = [];
    await train({ model, trainSamples: data.train, validationSamples: data.validation, labels: data.labels, config: config(), outDir: out, onStep: (e) => steps.push(e) });
    model.dispose();

    const tb = join(out, 'tb');
    expect(eventFiles(tb)).toHaveLength(1);
    const { byTag, events } = scalarsIn(tb);
    expect(events[0]!.fileVersion).toBe('brain.Event:2');

    const log = readLog(out);
    expect(log).toHaveLength(3);
    const perEpoch = 3 + 1 + log[0]!.validation!.cells.length + log[0]!.validation!.segmentation.length + 5;
    expect(log[0]!.validation!.cells).toHaveLength(8);
    expect(expectEpochsMatch(byTag, log)).toBe(3 * perEpoch);
    expect(Object.keys(log[0]!.effectiveRank!).sort()).toEqual(['after.depth', 'after.rgb', 'before.depth', 'before.rgb', 'fused']);

    expect(steps).toHaveLength(log.at(-1)!.globalStep);
    for (const e of steps) {
      expect(byTag.get('step/loss')!.get(e.globalStep)).toEqual([f32(e.loss)]);
      expect(byTag.get('step/lr')!.get(e.globalStep)).toEqual([f32(e.lr)]);
      expect(byTag.get('step/samples_per_second')!.get(e.globalStep)).toEqual([f32(e.samplesPerSecond)]);
      const terms = ['segmentation', 'action', 'duration'].map((t) => byTag.get(`step/loss.${t}`)!.get(e.globalStep)![0]!);
      expect(terms[0]! + terms[1]! + terms[2]!).toBeCloseTo(e.loss, 5);
    }

    const histos = events.flatMap((e) => (e.summary?.value ?? []).filter((v) => v.histo).map((v) => ({ step: e.step, tag: v.tag, num: v.histo!.num })));
    expect(histos).toEqual(log.map((r) => ({ step: r.globalStep, tag: 'tiny/duration.weight', num: 16 * 8 })));
  });

  it('a resumed run drops what the interrupted one logged after the checkpoint, so every step shows once', async () => {
    const out = join(root, 'resumed');
    const model = new TinyModel(data.labels, dims, 16, 3);
    const run = (resume: boolean, stopAfterEpochs: number) =>
      train({ model, trainSamples: data.train, validationSamples: data.validation, labels: data.labels, config: config({ checkpointEverySteps: 3 }), outDir: out, resume, stopAfterEpochs });
    await run(false, 1);
    // what an interrupted second epoch left behind: steps past the checkpoint and a stray epoch line
    new SummaryWriter(join(out, 'tb')).scalars({ 'step/loss': 123, 'epoch/train_loss': 456 }, 7).close();
    await run(true, 2);
    model.dispose();

    const { byTag } = scalarsIn(join(out, 'tb'));
    const log = readLog(out);
    expect(log.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expectEpochsMatch(byTag, log);
    expect([...byTag.get('epoch/train_loss')!.keys()].sort((a, b) => a - b)).toEqual(log.map((r) => r.globalStep));
    const loggedSteps = [...byTag.get('step/loss')!.entries()];
    expect(loggedSteps.map(([step]) => step).sort((a, b) => a - b)).toEqual(Array.from({ length: log.at(-1)!.globalStep }, (_, i) => i + 1));
    expect(loggedSteps.every(([, values]) => values.length === 1 && values[0] !== 123)).toBe(true);
  });

  it('a fresh run in the same folder replaces the old event files; `tensorboard: false` writes none, a path puts them there', async () => {
    const model = new TinyModel(data.labels, dims, 16, 3);
    const base = { model, trainSamples: data.train, labels: data.labels, config: config({ epochs: 1, rankMonitor: { enabled: false } }) };
    const out = join(root, 'fresh');
    await train({ ...base, outDir: out });
    const first = eventFiles(join(out, 'tb'));
    rmSync(join(out, 'last'), { recursive: true });
    await train({ ...base, outDir: out });
    const second = eventFiles(join(out, 'tb'));
    expect(second).toHaveLength(1);
    expect(second).not.toEqual(first);

    await train({ ...base, outDir: join(root, 'off'), tensorboard: false });
    expect(existsSync(join(root, 'off', 'tb'))).toBe(false);
    await train({ ...base, outDir: join(root, 'elsewhere'), tensorboard: join(root, 'boards', 'run-a') });
    expect(eventFiles(join(root, 'boards', 'run-a'))).toHaveLength(1);
    model.dispose();
  });
});
