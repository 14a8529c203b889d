import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventFiles, readEvents } from '@r3d-ts/tensorboard/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAblationConfig } from './config.js';
import { gridCells } from './grid.js';
import { readCells } from './store/result-folder.js';
import { runAblation, type RunSummary } from './run.js';
import type { CellResult } from './run-cell.js';
import { appDir, cliPath, runCli, tinyConfig } from './test-helpers.js';

// End-to-end on a tiny grid (rgb alone, depth and text with rtf-variance; 1 epoch, C = 32), on
// the wasm backend only: this suite checks the app's bookkeeping (shards, merge, resume), while
// the numeric kernels are checked on every backend in their own packages.
const tmp = mkdtempSync(join(tmpdir(), 'r3d-ablation-e2e-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Scalars of a TensorBoard run folder: tag -> step -> every value logged there (CRCs verified by readEvents). */
function scalarsOf(runDir: string): Map<string, Map<number, number[]>> {
  const byTag = new Map<string, Map<number, number[]>>();
  for (const e of eventFiles(runDir).flatMap((f) => readEvents(readFileSync(f)))) {
    for (const v of e.summary?.value ?? []) {
      if (v.simpleValue === undefined) continue;
      const steps = byTag.get(v.tag) ?? new Map<number, number[]>();
      steps.set(e.step, [...(steps.get(e.step) ?? []), v.simpleValue]);
      byTag.set(v.tag, new Map([...steps.entries()].sort((a, b) => a[0] - b[0])));
    }
  }
  return byTag;
}

const withoutTiming = (r: CellResult) => ({ ...r, seconds: 0 });
const byId = (cells: CellResult[]) => Object.fromEntries(cells.map((c) => [c.cell.id, withoutTiming(c)]));

describe('a tiny grid, end to end', () => {
  const single = join(tmp, 'single');
  let summary: RunSummary;
  let tensorsBefore = 0;
  let tensorsAfter = 0;

  beforeAll(async () => {
    const log = { write: () => true } as unknown as NodeJS.WritableStream;
    // warm the backend and the data path once so the tensor count below compares like with like
    await runAblation(parseAblationConfig(tinyConfig(join(tmp, 'warm'), { partners: ['depth'] })), { log });
    tensorsBefore = tf.memory().numTensors;
    summary = await runAblation(parseAblationConfig(tinyConfig(single)), { log });
    tensorsAfter = tf.memory().numTensors;
  });

  it('trains every cell, writes cells/<id>.json and every report file', () => {
    expect(summary.ran).toEqual(['rgb.none.s1', 'depth.rtf-variance.r0.3.s1', 'text.rtf-variance.r0.3.s1']);
    for (const f of ['results.json', 'results.csv', 'report.md', 'index.html', 'grid.json', 'figures/erank-gain-rtf-variance-r0.3.svg', 'figures/erank-gain-rtf-variance-r0.3.png', 'figures/balance.svg', 'figures/moc.png']) {
      expect(existsSync(join(single, f)), f).toBe(true);
    }
    expect(readdirSync(join(single, 'cells')).sort()).toEqual(summary.ran.map((id) => `${id}.json`).sort());
    const csv = readFileSync(join(single, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^row,id,partner,fuser,exchange_ratio,seed,mean_moc,moc_obs0.2_pred0.2,/);
    // one row per cell, per baseline, per group and metric (mean MoC, H, 4 MoC cells), per comparison
    expect(csv.filter((l) => l.startsWith('cell,'))).toHaveLength(3);
    expect(csv.filter((l) => l.startsWith('baseline,'))).toHaveLength(2);
    expect(csv.filter((l) => l.startsWith('group,'))).toHaveLength(3 * 6);
    expect(csv.filter((l) => l.startsWith('comparison,'))).toHaveLength(summary.report!.comparisons.length);
    const r = summary.report!;
    const depth = r.results.find((c) => c.cell.partner === 'depth')!;
    expect(depth.afterTokens).toBe('exchanged');
    expect(depth.ranks.map((p) => p.observationRatio)).toEqual([0.3, 0.6, 0.9]);
    for (const p of depth.ranks) {
      expect(p.gainRgb).toBeCloseTo(p.erank.rgbAfter - p.erank.rgbBefore, 10);
      expect(p.erank.rgbBefore).toBeGreaterThanOrEqual(1);
      expect(p.samples).toBeGreaterThan(0);
    }
    const rgb = r.results.find((c) => c.cell.partner === 'rgb')!;
    expect(rgb.ranks.every((p) => p.gainRgb === 0 && p.balance === 0)).toBe(true);
    expect(r.recommendation.fuser).toBe('rtf-variance');
    expect(['depth', 'text']).toContain(r.recommendation.byBalance!.partner);
    expect(readFileSync(join(single, 'report.md'), 'utf8')).toContain(r.recommendation.text);
    // the MoC says which protocol made it: the released evaluation, in report.md and results.json
    expect(readFileSync(join(single, 'report.md'), 'utf8')).toContain('MoC protocol: released.');
    const json = JSON.parse(readFileSync(join(single, 'results.json'), 'utf8')) as { cells: CellResult[]; groups: Array<{ meanMoc: { n: number; ci95: unknown[] } }>; comparisons: Array<{ a: string; b: string; metric: string }>; verdict: { claims: string[]; caveats: string[] } };
    expect(json.cells.map((c) => c.protocol)).toEqual(['released', 'released', 'released']);
    // the baselines are scored once, under the cells' protocol, and every cell carries them
    expect(json.cells.every((c) => c.baselines?.map((b) => [b.name, b.protocol]).join() === 'majority-class,released,repeat-last,released')).toBe(true);
    expect(json.groups.every((g) => g.meanMoc.n === 1 && g.meanMoc.ci95.length === 2)).toBe(true);
    expect(json.comparisons.map((c) => `${c.a} - ${c.b} ${c.metric}`)).toEqual([
      'rgb.none - baseline:majority-class meanMoc', 'rgb.none - baseline:repeat-last meanMoc',
      'depth.rtf-variance.r0.3 - rgb.none meanMoc', 'text.rtf-variance.r0.3 - rgb.none meanMoc',
      'depth.rtf-variance.r0.3 - text.rtf-variance.r0.3 meanMoc', 'depth.rtf-variance.r0.3 - text.rtf-variance.r0.3 H',
    ]);
    // one seed: nothing can be tested, so nothing is claimed
    expect(json.verdict.claims).toEqual([]);
    expect(json.verdict.caveats.length).toBeGreaterThan(0);
  });

  it('keeps one TensorBoard run per cell in runs/<cell-id>/: the training curves and the test numbers of cells/<id>.json', () => {
    expect(readdirSync(join(single, 'runs')).sort()).toEqual([...summary.ran].sort());
    for (const result of summary.report!.results) {
      const runDir = join(single, 'runs', result.cell.id);
      // the checkpoints are gone once the cell is finished; only event files stay
      expect(readdirSync(runDir).every((f) => f.startsWith('events.out.tfevents.'))).toBe(true);
      const board = scalarsOf(runDir);
      const f32 = Math.fround;
      expect([...board.get('epoch/train_loss')!.values()]).toEqual(result.trainLoss.map((v) => [f32(v)]));
      const [lastStep] = [...board.get('epoch/train_loss')!.keys()].slice(-1);
      expect(board.get('test/moc_mean')).toEqual(new Map([[lastStep, [f32(result.meanMoc)]]]));
      for (const c of result.moc) expect(board.get(`test/moc/obs${c.observationRatio}_pred${c.predictionRatio}`)!.get(lastStep!)).toEqual([f32(c.moc)]);
      for (const p of result.ranks) {
        expect(board.get(`test/effective_rank/obs${p.observationRatio}/partner_after`)!.get(lastStep!)).toEqual([f32(p.erank.partnerAfter)]);
        expect(board.get(`test/balance/obs${p.observationRatio}`)!.get(lastStep!)).toEqual([f32(p.balance)]);
      }
      expect(board.get('step/loss')!.size).toBe(lastStep);
    }
  });

  it('leaves no tensors behind', () => {
    expect(tensorsAfter).toBe(tensorsBefore);
  });

  it('--shard 1/2 and 2/2 in separate processes, then merge, give the results of one run', () => {
    const cfg = join(tmp, 'tiny.json');
    const { out: _out, ...rest } = tinyConfig('unused');
    writeFileSync(cfg, JSON.stringify(rest));
    const a = runCli(['--config', cfg, '--shard', '1/2', '--out', join(tmp, 'a')]);
    expect(a.status, a.stderr).toBe(0);
    const b = runCli(['--config', cfg, '--shard', '2/2', '--out', join(tmp, 'b')]);
    expect(b.status, b.stderr).toBe(0);
    expect(readCells(join(tmp, 'a')).length + readCells(join(tmp, 'b')).length).toBe(3);
    expect(readFileSync(join(tmp, 'a', 'report.md'), 'utf8')).toMatch(/Incomplete: 1 of 3 cells/);
    const m = runCli(['merge', join(tmp, 'merged'), join(tmp, 'a'), join(tmp, 'b')]);
    expect(m.status, m.stderr).toBe(0);
    expect(byId(readCells(join(tmp, 'merged')))).toEqual(byId(readCells(single)));
    const merged = JSON.parse(readFileSync(join(tmp, 'merged', 'results.json'), 'utf8'));
    const one = JSON.parse(readFileSync(join(single, 'results.json'), 'utf8'));
    expect(merged.recommendation).toEqual(one.recommendation);
    expect(merged.missing).toEqual([]);
    const strip = (g: Array<Record<string, unknown>>) => g.map(({ seconds: _s, ...x }) => x);
    expect(strip(merged.groups)).toEqual(strip(one.groups));
  });

  it('a killed run, rerun, skips its finished cells and ends with the results of an uninterrupted run', async () => {
    const out = join(tmp, 'killed');
    const cfg = join(tmp, 'tiny-kill.json');
    const { out: _out, ...rest } = tinyConfig('unused');
    writeFileSync(cfg, JSON.stringify(rest));
    const child = spawn(process.execPath, [cliPath(), '--config', cfg, '--out', out], { cwd: appDir, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !(existsSync(join(out, 'cells')) && readdirSync(join(out, 'cells')).some((f) => f.endsWith('.json')))) {
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    await exited;
    const finished = readCells(out).map((c) => c.cell.id);
    expect(finished.length).toBeGreaterThanOrEqual(1);
    const log = { write: () => true } as unknown as NodeJS.WritableStream;
    const rerun = await runAblation(parseAblationConfig(tinyConfig(out)), { log });
    expect(rerun.skipped.sort()).toEqual(finished.sort());
    expect([...rerun.ran, ...rerun.skipped].sort()).toEqual(gridCells(parseAblationConfig(tinyConfig(out))).map((c) => c.id).sort());
    expect(byId(readCells(out))).toEqual(byId(readCells(single)));
    // the cell that was killed mid-training and resumed shows each step once in TensorBoard
    for (const result of readCells(out)) {
      const board = scalarsOf(join(out, 'runs', result.cell.id));
      expect([...board.get('epoch/train_loss')!.values()]).toEqual(result.trainLoss.map((v) => [Math.fround(v)]));
      expect([...board.get('step/loss')!.values()].every((v) => v.length === 1)).toBe(true);
    }
    const again = await runAblation(parseAblationConfig(tinyConfig(out)), { log });
    expect(again.ran).toEqual([]);
  });

  it('refuses to resume into a folder made with other settings', async () => {
    await expect(runAblation(parseAblationConfig(tinyConfig(single, { epochs: 2 })))).rejects.toThrow(/holds results made with other settings/);
  });
});
