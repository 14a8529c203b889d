import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '@r3d-ts/trainer';
import { afterAll, describe, expect, it } from 'vitest';
import { finish, spawnTrain } from './test-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'r3d-train-resume-'));
const configPath = join(root, 'config.json');
// 7 training videos x 3 ratios = 21 samples = 6 steps of 4 per epoch; a mid-epoch checkpoint every 4 steps
writeFileSync(configPath, JSON.stringify({
  epochs: 3, warmupEpochs: 1, batchSize: 4, lr: 5e-3, seed: 13452, backend: 'wasm', checkpointEverySteps: 4,
  data: { kind: 'synthetic', count: 10, height: 12, width: 16 },
  model: { hidden: 16, heads: 2, ffnDim: 32 },
  rankMonitor: { enabled: false },
}));

const r3d = (args: string[]): ChildProcess => spawnTrain(configPath, args);

describe('resume after SIGKILL (r3d train in a child process, wasm)', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('continues from the last checkpoint to weights identical to an uninterrupted run', async () => {
    const straight = finish(r3d(['-o', join(root, 'straight')]));

    const killedDir = join(root, 'killed');
    const victim = r3d(['-o', killedDir, '--log-steps']);
    let killedAt: { epoch: number; step: number } | undefined;
    let buffer = '';
    victim.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (const line of buffer.split('\n').slice(0, -1)) {
        const e = JSON.parse(line) as { epoch: number; step: number };
        // mid-epoch 2, one step after its mid-epoch checkpoint (global step 8)
        if (!killedAt && e.epoch === 2 && e.step === 3) {
          killedAt = e;
          victim.kill('SIGKILL');
        }
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    });
    const killed = await finish(victim);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(killedAt).toEqual({ event: 'step', epoch: 2, step: 3, globalStep: 9, loss: expect.any(Number) });
    const saved = loadCheckpoint(join(killedDir, 'last')).state.progress;
    expect(saved.epoch).toBe(1); // epoch 2 (0-based 1) was running
    expect(saved.stepInEpoch).toBeLessThan(6);

    const resumed = await finish(r3d(['-o', killedDir, '--resume']));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming at epoch 2, step \d of it/);
    const done = await straight;
    expect(done.code, done.stderr).toBe(0);

    const a = loadCheckpoint(join(root, 'straight', 'last'));
    const b = loadCheckpoint(join(killedDir, 'last'));
    expect(b.state.progress.globalStep).toBe(18);
    expect(Object.keys(b.weights).sort()).toEqual(Object.keys(a.weights).sort());
    for (const name of Object.keys(a.weights)) {
      expect(Buffer.from(b.weights[name].data.buffer).equals(Buffer.from(a.weights[name].data.buffer)), name).toBe(true);
    }
    for (const name of Object.keys(a.optimizer!)) {
      expect(Buffer.from(b.optimizer![name].data.buffer).equals(Buffer.from(a.optimizer![name].data.buffer)), name).toBe(true);
    }
    const epochs = (dir: string) => readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const la = epochs(join(root, 'straight'));
    const lb = epochs(killedDir);
    expect(lb.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(lb.map((r) => [r.trainLoss, r.validation.meanMoc])).toEqual(la.map((r) => [r.trainLoss, r.validation.meanMoc]));
  });
});
