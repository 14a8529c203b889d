import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashTree } from '@r3d-ts/tooling/vitest/hash-tree';
import { finish, spawnTrain } from './test-helpers.js';

// `r3d train --resume` over a run folder someone edited, and a new run over a folder holding
// only best/ (issue 14, classes 3 and 4): refused with exit 2 naming the file, nothing modified.
const root = mkdtempSync(join(tmpdir(), 'r3d-train-run-folder-'));
const configPath = join(root, 'config.json');
writeFileSync(configPath, JSON.stringify({
  epochs: 2, warmupEpochs: 1, batchSize: 4, lr: 5e-3, seed: 7, backend: 'wasm',
  data: { kind: 'synthetic', count: 6, height: 8, width: 8 },
  model: { hidden: 8, heads: 2, ffnDim: 16 },
  rankMonitor: { enabled: false },
}));
const base = join(root, 'base');

const r3d = (args: string[]): Promise<{ code: number | null; stderr: string }> => finish(spawnTrain(configPath, args));

beforeAll(async () => {
  // the first of two epochs: last/, best/, log.jsonl, tb/
  const done = await r3d(['-o', base, '--epochs', '1']);
  expect(done.code, done.stderr).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('r3d train refuses a run folder it did not write', () => {
  const cases: Array<[string, string, (dir: string) => void]> = [
    ['last/state.json with its epoch edited to -3', 'last/state.json', (d) => {
      const p = join(d, 'last', 'state.json');
      const s = JSON.parse(readFileSync(p, 'utf8'));
      s.progress.epoch = -3;
      writeFileSync(p, JSON.stringify(s, null, 2));
    }],
    ['log.jsonl with a train loss edited', 'log.jsonl', (d) => {
      const p = join(d, 'log.jsonl');
      writeFileSync(p, readFileSync(p, 'utf8').replace(/"trainLoss":\d/, '"trainLoss":9'));
    }],
    ['last/optimizer.safetensors with a flipped byte', 'last/optimizer.safetensors', (d) => {
      const p = join(d, 'last', 'optimizer.safetensors');
      const b = readFileSync(p);
      b[b.length - 2] ^= 1;
      writeFileSync(p, b);
    }],
    ['best/weights.safetensors with a flipped byte', 'best/weights.safetensors', (d) => {
      const p = join(d, 'best', 'weights.safetensors');
      const b = readFileSync(p);
      b[b.length - 2] ^= 1;
      writeFileSync(p, b);
    }],
  ];

  it.each(cases)('--resume over %s: exit 2 naming the file, folder unchanged', async (_name, file, tamper) => {
    const dir = join(root, file.replace(/\W+/g, '-'));
    cpSync(base, dir, { recursive: true });
    tamper(dir);
    const before = hashTree(dir);
    const run = await r3d(['-o', dir, '--resume']);
    expect(run.code, run.stderr).toBe(2);
    // the refusal is the only line: the run is announced only after its folder passed the checks
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining(`${join(dir, file)}: expected`)]);
    expect(hashTree(dir)).toEqual(before);
  });

  it('a new run into a folder holding only best/: exit 2, best/ kept', async () => {
    const dir = join(root, 'best-only');
    mkdirSync(dir);
    cpSync(join(base, 'best'), join(dir, 'best'), { recursive: true });
    const before = hashTree(dir);
    const run = await r3d(['-o', dir]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.trim().split('\n').at(-1)).toMatch(/--overwrite/);
    expect(hashTree(dir)).toEqual(before);
  });
});
