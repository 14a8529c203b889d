import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { idleCores, workerCount } from './cell-workers.js';
import { parseAblationConfig } from './config.js';
import { runAblation } from './run.js';
import { readCells } from './store/result-folder.js';
import { appDir, cliPath, tinyConfig } from './test-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'r3d-ablation-workers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const quiet = { write: () => true } as unknown as NodeJS.WritableStream;
// the numbers of a cell, without where and how long it ran
const numbers = (out: string) => readCells(out).map(({ seconds: _s, ...rest }) => rest).sort((a, b) => a.cell.id.localeCompare(b.cell.id));

describe('cells in worker processes', () => {
  it('auto is one worker per idle core, never more than the cells', () => {
    expect(workerCount('auto', 35, 2)).toBe(2);
    expect(workerCount('auto', 35, 1.6)).toBe(2);
    expect(workerCount('auto', 35, 0.8)).toBe(1);
    expect(workerCount('auto', 35, 0)).toBe(1);
    expect(workerCount('auto', 1, 2)).toBe(1);
    expect(workerCount(3, 2, 0)).toBe(2);
    expect(workerCount(1, 35, 8)).toBe(1);
  });

  it('idle cores are measured now: a busy loop in this process takes about one core away', async () => {
    const cores = availableParallelism();
    const quietIdle = await idleCores(200);
    expect(quietIdle).toBeGreaterThanOrEqual(0);
    expect(quietIdle).toBeLessThanOrEqual(cores);
    // a second process spinning for the whole sample
    const spinner = spawn(process.execPath, ['-e', 'const end = Date.now() + 1500; while (Date.now() < end);'], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const busyIdle = await idleCores(400);
    spinner.kill();
    expect(busyIdle).toBeLessThanOrEqual(cores - 0.7);
  });

  it('two workers write the same cells as one process, number for number', async () => {
    const settings = tinyConfig('', { partners: ['rgb', 'text'], seeds: [1, 2] });
    const one = join(tmp, 'one');
    const two = join(tmp, 'two');
    await runAblation(parseAblationConfig({ ...settings, out: one, workers: 1 }), { log: quiet, results: null });
    const summary = await runAblation(parseAblationConfig({ ...settings, out: two, workers: 2 }), { log: quiet, results: null });
    expect(summary.ran).toHaveLength(4);
    expect(numbers(two)).toEqual(numbers(one));
  }, 300_000);

  it('SIGINT stops every worker at a step with a checkpoint (exit 130); a rerun finishes the grid', async () => {
    const out = join(tmp, 'stopped');
    const config = join(tmp, 'stopped.json');
    writeFileSync(config, JSON.stringify({ ...tinyConfig(out, { partners: ['depth'], fusers: ['mean'], seeds: [1, 2], epochs: 4, batchSize: 4 }), workers: 2 }));
    const start = () => {
      const child = spawn(process.execPath, [cliPath(), 'run', '--config', config], { cwd: appDir, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      return { child, done: new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr }))) };
    };
    const checkpoints = () => ['depth.mean.s1', 'depth.mean.s2'].filter((id) => existsSync(join(out, 'runs', id, 'last', 'state.json')));
    const run = start();
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && checkpoints().length === 0) await new Promise((r) => setTimeout(r, 20));
    run.child.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
    const rerun = await start().done;
    expect(rerun.code, rerun.stderr).toBe(0);
    const cells = readCells(out);
    expect(cells.map((c) => c.cell.id).sort()).toEqual(['depth.mean.s1', 'depth.mean.s2']);
    for (const c of cells) expect(c.trainLoss).toHaveLength(4);
  }, 300_000);
});
