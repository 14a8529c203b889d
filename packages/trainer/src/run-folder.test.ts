import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@r3d-ts/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from './checkpoint.js';
import { parseTrainConfig } from './config.js';
import { CheckpointError } from './errors.js';
import { train, type TrainOptions } from './loop.js';
import { tinyData } from './test-support/synthetic.js';
import { TinyModel } from './test-support/tiny-model.js';
import { hashTree } from '@r3d-ts/tooling/vitest/hash-tree';

// What a run folder holds is checked before a run touches it (issue 14, classes 3, 4, 7, 16):
// every file a resume reads, a new run over someone else's checkpoints, orphan temporary folders.

const data = tinyData({ seed: 2, videos: 4, validation: 2 });
const dims = { rgb: 16, depth: 16 };
const config = parseTrainConfig({ epochs: 3, warmupEpochs: 1, batchSize: 4, rankMonitor: { enabled: false } });
const root = mkdtempSync(join(tmpdir(), 'r3d-trainer-run-folder-'));
const base = join(root, 'base');

function run(outDir: string, extra: Partial<TrainOptions> = {}): ReturnType<typeof train> {
  const model = new TinyModel(data.labels, dims, 8, 1);
  const done = train({ model, trainSamples: data.train, validationSamples: data.validation, labels: data.labels, config, outDir, ...extra });
  return done.finally(() => model.dispose());
}

function copyOfBase(name: string): string {
  const dir = join(root, name);
  cpSync(base, dir, { recursive: true });
  return dir;
}

function editJson(path: string, edit: (value: any) => void): void {
  const value = JSON.parse(readFileSync(path, 'utf8'));
  edit(value);
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function flipByte(path: string, from = 'end'): void {
  const b = readFileSync(path);
  b[from === 'end' ? b.length - 3 : 20] ^= 0x01;
  writeFileSync(path, b);
}

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
  // one epoch of three: last/ (epoch 1), best/ (epoch 1), log.jsonl (one line), tb/
  await run(base, { stopAfterEpochs: 1 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('resume refuses a run folder whose files were edited, and changes nothing in it', () => {
  it.each([
    ['last/state.json: epoch edited to -3', (d: string) => editJson(join(d, 'last', 'state.json'), (s) => (s.progress.epoch = -3))],
    ['last/state.json: epoch edited to "two"', (d: string) => editJson(join(d, 'last', 'state.json'), (s) => (s.progress.epoch = 'two'))],
    ['last/state.json: one bit of the RNG state flipped', (d: string) => editJson(join(d, 'last', 'state.json'), (s) => (s.progress.rng.sfc32[2] ^= 1))],
    ['last/state.json: best metric raised', (d: string) => editJson(join(d, 'last', 'state.json'), (s) => (s.progress.best.metric = 0.99))],
    ['last/state.json: a space added', (d: string) => writeFileSync(join(d, 'last', 'state.json'), readFileSync(join(d, 'last', 'state.json'), 'utf8').replace('{', '{ '))],
    ['last/weights.safetensors: a flipped byte', (d: string) => flipByte(join(d, 'last', 'weights.safetensors'))],
    ['last/optimizer.safetensors: a flipped byte', (d: string) => flipByte(join(d, 'last', 'optimizer.safetensors'))],
    ['last/config.json: lr edited', (d: string) => editJson(join(d, 'last', 'config.json'), (c) => (c.train.lr = 1))],
    ['log.jsonl: a train loss edited', (d: string) => writeFileSync(join(d, 'log.jsonl'), readFileSync(join(d, 'log.jsonl'), 'utf8').replace(/"trainLoss":\d/, '"trainLoss":9'))],
    ['log.jsonl: deleted', (d: string) => rmSync(join(d, 'log.jsonl'))],
    ['best/state.json: metric edited', (d: string) => editJson(join(d, 'best', 'state.json'), (s) => (s.metrics.meanMoc = 0.99))],
    ['best/weights.safetensors: a flipped byte', (d: string) => flipByte(join(d, 'best', 'weights.safetensors'))],
  ])('%s', async (name, tamper) => {
    const dir = copyOfBase(`tamper-${name.replace(/\W+/g, '-')}`);
    tamper(dir);
    const before = hashTree(dir);
    const resumed = run(dir, { resume: true });
    await expect(resumed).rejects.toThrow(CheckpointError);
    await expect(resumed).rejects.toThrow(dir);
    expect(hashTree(dir)).toEqual(before);
  });

  it('an untouched copy resumes (the refusals above are the edits, not the copy)', async () => {
    const dir = copyOfBase('untouched');
    const result = await run(dir, { resume: true });
    expect(result.globalStep).toBe(3 * Math.ceil(data.train.length / 4));
  });

  it('a checkpoint whose checksum is right but whose progress does not fit the run is refused before anything changes', async () => {
    const dir = copyOfBase('beyond-epochs');
    // a consistent checkpoint of a 5-epoch run, resumed with a 3-epoch configuration
    await run(join(root, 'five'), { config: { ...config, epochs: 5 }, stopAfterEpochs: 4 });
    rmSync(join(dir, 'last'), { recursive: true });
    rmSync(join(dir, 'best'), { recursive: true });
    cpSync(join(root, 'five', 'last'), join(dir, 'last'), { recursive: true });
    cpSync(join(root, 'five', 'best'), join(dir, 'best'), { recursive: true });
    cpSync(join(root, 'five', 'log.jsonl'), join(dir, 'log.jsonl'));
    const before = hashTree(dir);
    await expect(run(dir, { resume: true })).rejects.toThrow(/epoch/);
    expect(hashTree(dir)).toEqual(before);
  });
});

describe('a run never replaces checkpoints it did not write', () => {
  it('a new run into a folder holding only best/ is refused, with or without resume, and best/ is kept', async () => {
    const dir = join(root, 'best-only');
    mkdirSync(dir);
    cpSync(join(base, 'best'), join(dir, 'best'), { recursive: true });
    const before = hashTree(dir);
    await expect(run(dir)).rejects.toThrow(/already holds a checkpoint/);
    expect(hashTree(dir)).toEqual(before);
    await expect(run(dir, { resume: true })).rejects.toThrow(/best/);
    expect(hashTree(dir)).toEqual(before);
  });

  it('overwrite: true replaces them', async () => {
    const dir = copyOfBase('overwrite');
    const result = await run(dir, { overwrite: true } as Partial<TrainOptions>);
    expect(result.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(loadCheckpoint(join(dir, 'last')).state.progress.epoch).toBe(3);
    const log = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n');
    expect(log.map((l) => JSON.parse(l).epoch)).toEqual([1, 2, 3]);
  });
});

describe('orphans of a killed run', () => {
  it('temporary checkpoint folders and files left by a dead process are removed by the next run', async () => {
    const dir = copyOfBase('orphans');
    const dead = 2 ** 22 + 12345; // above the largest pid_max: never a running process
    for (const tmp of [`.last.tmp-${dead}`, `.best.tmp-${dead - 1}`]) {
      mkdirSync(join(dir, tmp));
      writeFileSync(join(dir, tmp, 'weights.safetensors'), 'partial');
    }
    writeFileSync(join(dir, `.log.jsonl.${dead}.k2j3h4abcd.tmp`), 'partial');
    await run(dir, { resume: true });
    expect(readdirSync(dir).filter((f) => f.startsWith('.')).sort()).toEqual([]);
    expect(existsSync(join(dir, 'last', 'state.json'))).toBe(true);
  });
});

describe('the history of a resumed run', () => {
  it('covers every epoch, and its seconds include the time before the resume', async () => {
    const dir = copyOfBase('history');
    const first = loadCheckpoint(join(dir, 'last')).state.progress as { elapsedSeconds?: number };
    const result = await run(dir, { resume: true });
    expect(result.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    const straight = await run(join(root, 'history-straight'));
    expect(result.history.map((h) => h.trainLoss)).toEqual(straight.history.map((h) => h.trainLoss));
    expect(first.elapsedSeconds).toBeGreaterThan(0);
    expect((result as { seconds?: number }).seconds).toBeGreaterThan(first.elapsedSeconds!);
  });
});
