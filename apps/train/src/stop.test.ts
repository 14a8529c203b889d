import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '@r3d-ts/trainer';
import { afterAll, describe, expect, it } from 'vitest';
import { finish, spawnTrain } from './test-helpers.js';

// SIGINT and SIGTERM (issue 14, class 17): `r3d train` stops at the next step boundary, writes
// last/, releases its folder and exits 130 / 143; resuming from that checkpoint ends with the
// weights of an uninterrupted run, bit for bit.
const root = mkdtempSync(join(tmpdir(), 'r3d-train-stop-'));
const configPath = join(root, 'config.json');
// 7 training videos x 3 ratios = 21 samples = 6 steps of 4 per epoch
writeFileSync(configPath, JSON.stringify({
  epochs: 3, warmupEpochs: 1, batchSize: 4, lr: 5e-3, seed: 13452, backend: 'wasm',
  data: { kind: 'synthetic', count: 10, height: 12, width: 16 },
  model: { hidden: 16, heads: 2, ffnDim: 32 },
  rankMonitor: { enabled: false },
}));

const r3d = (args: string[]): ChildProcess => spawnTrain(configPath, args);

/** Sends `signal` once the run has printed the step `globalStep`. */
function signalAt(child: ChildProcess, globalStep: number, signal: NodeJS.Signals): void {
  let buffer = '';
  let sent = false;
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (const line of buffer.split('\n').slice(0, -1)) {
      if (!sent && (JSON.parse(line) as { globalStep: number }).globalStep >= globalStep) {
        sent = true;
        child.kill(signal);
      }
    }
    buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
  });
}

describe('r3d train on SIGINT / SIGTERM', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('stops with a checkpoint and exit 130 / 143, and resumes to the uninterrupted weights', async () => {
    const straight = finish(r3d(['-o', join(root, 'straight')]));
    const dir = join(root, 'stopped');

    const first = r3d(['-o', dir, '--log-steps']);
    signalAt(first, 2, 'SIGINT');
    const interrupted = await finish(first);
    expect(interrupted.code, interrupted.stderr).toBe(130);
    const atInt = loadCheckpoint(join(dir, 'last')).state.progress;
    expect(atInt.globalStep).toBeGreaterThanOrEqual(2);
    expect(atInt.epoch * 6 + atInt.stepInEpoch).toBe(atInt.globalStep);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);

    const second = r3d(['-o', dir, '--resume', '--log-steps']);
    signalAt(second, atInt.globalStep + 5, 'SIGTERM');
    const terminated = await finish(second);
    expect(terminated.code, terminated.stderr).toBe(143);
    const atTerm = loadCheckpoint(join(dir, 'last')).state.progress;
    expect(atTerm.globalStep).toBeGreaterThan(atInt.globalStep);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);

    const third = await finish(r3d(['-o', dir, '--resume']));
    expect(third.code, third.stderr).toBe(0);
    const done = await straight;
    expect(done.code, done.stderr).toBe(0);
    const a = loadCheckpoint(join(root, 'straight', 'last'));
    const b = loadCheckpoint(join(dir, 'last'));
    expect(b.state.progress.globalStep).toBe(18);
    for (const name of Object.keys(a.weights)) {
      expect(Buffer.from(b.weights[name].data.buffer).equals(Buffer.from(a.weights[name].data.buffer)), name).toBe(true);
    }
    expect(existsSync(join(dir, 'best', 'state.json'))).toBe(true);
  });
});
