import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@r3d-ts/backend';
import { readSafetensors } from '@r3d-ts/tensor-io/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint, writeCheckpointState, type TrainingProgress } from './checkpoint.js';
import { parseTrainConfig } from './config.js';
import { CheckpointError } from './errors.js';
import { train } from './loop.js';
import { tinyData } from './test-support/synthetic.js';
import { TinyModel } from './test-support/tiny-model.js';

const progress: TrainingProgress = { epoch: 3, stepInEpoch: 0, globalStep: 30, rng: { sfc32: [1, 2, 3, 4], spareNormal: null }, epochLossSum: 0, epochLossCount: 0, best: null, lr: 1e-3, elapsedSeconds: 12.5 };

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
}

describe('checkpoints', () => {
  const root = mkdtempSync(join(tmpdir(), 'r3d-trainer-ckpt-'));
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const save = (dir: string, value: number) => {
    const weights = { 'fc.weight': tf.fill([3, 4], value), step: tf.scalar(7, 'int32') };
    const moments = { 'exp_avg.fc.weight': tf.fill([3, 4], value / 10) };
    saveCheckpoint(dir, { kind: 'last', weights, optimizer: { step: 30, moments }, progress, config: { lr: 1e-3 } });
    tf.dispose([weights, moments]);
  };

  it('round-trips weights, optimiser moments, progress and config (read from disk)', () => {
    const dir = join(root, 'ok');
    save(dir, 0.25);
    const ck = loadCheckpoint(dir);
    expect(Array.from(ck.weights['fc.weight'].data)).toEqual(new Array(12).fill(0.25));
    expect(Array.from(ck.weights.step.data)).toEqual([7]);
    expect(Array.from(ck.optimizer!['exp_avg.fc.weight'].data)[0]).toBeCloseTo(0.025, 7);
    expect(ck.state.progress).toEqual(progress);
    expect(ck.state.optimizerStep).toBe(30);
    expect(ck.config).toEqual({ lr: 1e-3 });
    expect(readSafetensors(join(dir, 'weights.safetensors')).metadata.format).toBe('r3d-ts-checkpoint');
    expect(readdirSync(root).filter((f) => f.includes('tmp') || f.endsWith('.old'))).toEqual([]);
  });

  it.each([
    ['truncated weights', (d: string) => truncateSync(join(d, 'weights.safetensors'), 40), /weights\.safetensors: expected \d+ bytes .*truncated/],
    ['a flipped byte', (d: string) => {
      const p = join(d, 'weights.safetensors');
      const b = readFileSync(p);
      b[b.length - 3] ^= 0xff;
      writeFileSync(p, b);
    }, /weights\.safetensors: expected SHA-256 .*corrupted/],
    ['a truncated state.json', (d: string) => truncateSync(join(d, 'state.json'), 30), /state\.json: expected valid JSON.*truncated or corrupted/],
    ['a missing optimizer file', (d: string) => rmSync(join(d, 'optimizer.safetensors')), /optimizer\.safetensors: expected a file of \d+ bytes.*no such file/],
  ])('rejects %s with a CheckpointError naming the file', (_name, damage, pattern) => {
    const dir = join(root, `bad-${_name.replace(/\W+/g, '-')}`);
    save(dir, 1);
    damage(dir);
    expect(() => loadCheckpoint(dir)).toThrow(CheckpointError);
    expect(() => loadCheckpoint(dir)).toThrow(pattern);
  });

  it.each([
    ['an epoch of -3', (s: any) => (s.progress.epoch = -3), /progress\.epoch: Too small/],
    ['an epoch of "two"', (s: any) => (s.progress.epoch = 'two'), /progress\.epoch: Invalid input: expected number/],
    ['a fractional step', (s: any) => (s.progress.globalStep = 30.5), /progress\.globalStep: Invalid input: expected int/],
    ['a generator state of another generator', (s: any) => (s.progress.rng = [1, 2, 3, 4]), /progress\.rng: Invalid input: expected object/],
    ['a generator word beyond 32 bits', (s: any) => (s.progress.rng.sfc32[1] = 2 ** 32), /progress\.rng\.sfc32\.1: Too big/],
    ['a file outside the folder', (s: any) => (s.files['../../weights.safetensors'] = s.files['weights.safetensors']), /files\.\.\.\/\.\.\/weights\.safetensors/],
    ['a best metric of 500%', (s: any) => (s.progress.best = { metric: 5, epoch: 1 }), /progress\.best\.metric: Too big/],
    ['more losses than steps', (s: any) => (s.progress.epochLossCount = 4), /epochLossCount must equal stepInEpoch/],
  ])('refuses a state.json with %s, even with a valid checksum, naming the field', (_name, edit, pattern) => {
    const dir = join(root, `state-${_name.replace(/\W+/g, '-')}`);
    save(dir, 1);
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    edit(state);
    writeCheckpointState(dir, state);
    expect(() => loadCheckpoint(dir)).toThrow(CheckpointError);
    expect(() => loadCheckpoint(dir)).toThrow(`${join(dir, 'state.json')}: expected a checkpoint state as the trainer writes it, found`);
    expect(() => loadCheckpoint(dir)).toThrow(pattern);
  });

  it.each([
    ['one bit of the generator state', (t: string) => t.replace(/"sfc32": \[\n\s+1,/, (m) => m.replace('1,', '0,')), /the file was edited/],
    ['the epoch, reformatted as the trainer would', (t: string) => JSON.stringify({ ...JSON.parse(t), progress: { ...JSON.parse(t).progress, epoch: 2 } }, null, 2) + '\n', /the file was edited/],
    ['a space', (t: string) => t.replace('{', '{ '), /a reformatted file: it was edited/],
  ])('refuses a state.json whose checksum does not cover it: %s', (_name, edit, pattern) => {
    const dir = join(root, `edited-${_name.replace(/\W+/g, '-')}`);
    save(dir, 1);
    const path = join(dir, 'state.json');
    writeFileSync(path, edit(readFileSync(path, 'utf8')));
    expect(() => loadCheckpoint(dir)).toThrow(CheckpointError);
    expect(() => loadCheckpoint(dir)).toThrow(pattern);
  });

  it('refuses a checkpoint of an earlier format version, saying so', () => {
    const dir = join(root, 'v1');
    save(dir, 1);
    const path = join(dir, 'state.json');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"version": 3', '"version": 2'));
    expect(() => loadCheckpoint(dir)).toThrow(/expected "version": 3 \(a checkpoint of an earlier r3d-ts.*found "2"/);
  });

  it('a malformed safetensors file whose size and hash are recorded is a CheckpointError naming it', () => {
    const dir = join(root, 'malformed');
    save(dir, 1);
    const path = join(dir, 'weights.safetensors');
    const bytes = Buffer.concat([readFileSync(path), Buffer.alloc(8)]); // trailing bytes after the data
    writeFileSync(path, bytes);
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    state.files['weights.safetensors'] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    writeCheckpointState(dir, state); // a state.json consistent with the malformed file, checksum included
    expect(() => loadCheckpoint(dir)).toThrow(CheckpointError);
    expect(() => loadCheckpoint(dir)).toThrow(`${path}: expected `);
    expect(() => loadCheckpoint(dir)).toThrow(/expected \d+ bytes of tensor data, found "\d+ bytes: trailing garbage"$/);
  });

  it('a failed save leaves the previous checkpoint intact and loadable', () => {
    const dir = join(root, 'keep');
    save(dir, 0.5);
    const before = snapshot(dir);
    const weights = { 'fc.weight': tf.fill([3, 4], 9), bad: tf.complex([1], [1]) };
    expect(() => saveCheckpoint(dir, { kind: 'last', weights, progress, config: {} })).toThrow(/dtype complex64/);
    tf.dispose(weights);
    expect(snapshot(dir)).toEqual(before);
    expect(Array.from(loadCheckpoint(dir).weights['fc.weight'].data)[0]).toBe(0.5);
    expect(readdirSync(root).filter((f) => f.includes('keep') && f !== 'keep')).toEqual([]);
  });

  it('resuming from a corrupted last checkpoint fails clearly and overwrites neither it nor best', async () => {
    const data = tinyData({ seed: 2, videos: 4, validation: 2 });
    const config = parseTrainConfig({ epochs: 3, warmupEpochs: 1, batchSize: 4, rankMonitor: { enabled: false } });
    const dir = join(root, 'run');
    const model = new TinyModel(data.labels, { rgb: 16, depth: 16 }, 8, 1);
    await train({ model, trainSamples: data.train, validationSamples: data.validation, labels: data.labels, config, outDir: dir, stopAfterEpochs: 1 });
    const weights = join(dir, 'last', 'weights.safetensors');
    const size = readFileSync(weights).length;
    truncateSync(weights, size - 100);
    const last = snapshot(join(dir, 'last'));
    const best = snapshot(join(dir, 'best'));
    const resumed = train({ model, trainSamples: data.train, validationSamples: data.validation, labels: data.labels, config, outDir: dir, resume: true });
    await expect(resumed).rejects.toThrow(CheckpointError);
    await expect(resumed).rejects.toThrow(`${weights}: expected ${size} bytes (as recorded in state.json), found "${size - 100} bytes: truncated"`);
    expect(snapshot(join(dir, 'last'))).toEqual(last);
    expect(snapshot(join(dir, 'best'))).toEqual(best);
    // without resume, an existing run is never overwritten either
    await expect(train({ model, trainSamples: data.train, labels: data.labels, config, outDir: dir })).rejects.toThrow(/already holds a checkpoint/);
    // and the good best checkpoint still loads
    copyFileSync(join(dir, 'best', 'weights.safetensors'), join(root, 'best-copy.safetensors'));
    expect(loadCheckpoint(join(dir, 'best')).state.kind).toBe('best');
    model.dispose();
  });
});
