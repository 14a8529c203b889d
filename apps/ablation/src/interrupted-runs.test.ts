import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAblationConfig } from './config.js';
import { runAblation } from './run.js';
import { readCells } from './store/result-folder.js';
import { appDir, cliPath } from './test-helpers.js';

// A cell interrupted in its second epoch (SIGKILL, SIGINT, SIGTERM) and resumed by a rerun
// (issue 14, classes 7 and 17): the rerun's cell covers every epoch, and a signal stops the run
// at a step boundary with a checkpoint, releases the folder and exits 128 + the signal's number.
const tmp = mkdtempSync(join(tmpdir(), 'r3d-ablation-interrupted-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const quiet = { write: () => true } as unknown as NodeJS.WritableStream;

const settings = {
  partners: ['depth'], fusers: ['mean'], seeds: [1], epochs: 4, batchSize: 4,
  trainObservationRatios: [0.2, 0.3, 0.5], evalObservationRatios: [0.3], predictionRatios: [0.5], rankObservationRatios: [0.5],
  model: { hidden: 16, heads: 2, ffnDim: 32 }, synthetic: { count: 12, sampleRate: 4 }, backend: 'wasm', progress: false,
} as const;
const configPath = join(tmp, 'config.json');
writeFileSync(configPath, JSON.stringify(settings));
const cellDir = (out: string) => join(out, 'runs', 'depth.mean.s1');

function start(out: string): { child: ChildProcess; done: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(process.execPath, [cliPath(), 'run', '--config', configPath, '--out', out], {
    cwd: appDir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, R3D_BACKEND: 'wasm' },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return { child, done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr }))) };
}

/** Waits until the cell's first epoch checkpoint is on disk (the cell is then in its second epoch). */
async function afterFirstEpoch(out: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && !existsSync(join(cellDir(out), 'last', 'state.json'))) await new Promise((r) => setTimeout(r, 20));
}

describe('an ablation cell interrupted and resumed', () => {
  it('SIGKILL, then a rerun: the cell\'s trainLoss covers every epoch', async () => {
    const out = join(tmp, 'killed');
    const run = start(out);
    await afterFirstEpoch(out);
    run.child.kill('SIGKILL');
    await run.done;
    expect(readCells(out)).toEqual([]);
    const rerun = await runAblation(parseAblationConfig({ ...settings, out }), { log: quiet });
    expect(rerun.ran).toEqual(['depth.mean.s1']);
    const [cell] = readCells(out);
    expect(cell!.trainLoss).toHaveLength(settings.epochs);
  });

  it.each([['SIGINT', 130], ['SIGTERM', 143]] as const)('%s stops the run with a checkpoint and exit %i; a rerun finishes the cell', async (signal, code) => {
    const out = join(tmp, signal);
    const run = start(out);
    await afterFirstEpoch(out);
    run.child.kill(signal);
    const stopped = await run.done;
    expect(stopped.code, stopped.stderr).toBe(code);
    expect(existsSync(join(cellDir(out), 'last', 'state.json'))).toBe(true);
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
    const rerun = start(out);
    const finished = await rerun.done;
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stderr).toMatch(/1 to run/);
    const [cell] = readCells(out);
    expect(cell!.trainLoss).toHaveLength(settings.epochs);
  });
});
