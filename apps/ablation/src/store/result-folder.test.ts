import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE, OutputFolderLockedError } from '@r3d-ts/tensor-io/node';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAblationConfig, type AblationConfigInput } from '../config.js';
import { AblationResultError } from '../errors.js';
import { gridCells } from '../grid.js';
import { runAblation, writeReportFor } from '../run.js';
import { fakeCellResult, tinyConfig } from '../test-helpers.js';
import { mergeResultFolders } from './merge.js';
import { cellPath, openForWriting, openResultFolder, readCells, writeCell } from './result-folder.js';

// Merge and resume read every cell strictly (issue 14, class 6), and a failed run's grid.json
// does not block a corrected rerun of an empty folder (class 14).
const tmp = mkdtempSync(join(tmpdir(), 'r3d-ablation-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const quiet = { write: () => true } as unknown as NodeJS.WritableStream;

/** A result folder of made-up cells (shard `shard` of 2 of a 4-cell grid). */
function folder(name: string, shard: 1 | 2, over: AblationConfigInput = {}): string {
  const out = join(tmp, name);
  const config = parseAblationConfig({ out, partners: ['rgb', 'depth', 'text'], fusers: ['mean'], seeds: [1, 2], epochs: 2, ...over });
  openResultFolder(config);
  gridCells(config).filter((_, i) => i % 2 === shard - 1).forEach((c) => writeCell(out, fakeCellResult(c)));
  return out;
}

function editCell(dir: string, edit: (cell: any) => void): string {
  const file = readdirSync(join(dir, 'cells')).sort()[0]!;
  const path = join(dir, 'cells', file);
  const value = JSON.parse(readFileSync(path, 'utf8'));
  edit(value);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describe('merge is strict', () => {
  it('merges intact folders', () => {
    const merged = mergeResultFolders(join(tmp, 'merged-ok'), [folder('ok-a', 1), folder('ok-b', 2)]);
    expect(merged.cells).toHaveLength(6);
    expect(readCells(join(tmp, 'merged-ok'))).toHaveLength(6);
  });

  it.each([
    ['a damaged cell file', (d: string) => {
      const path = join(d, 'cells', readdirSync(join(d, 'cells')).sort()[0]!);
      writeFileSync(path, readFileSync(path, 'utf8').slice(0, 40));
      return path;
    }],
    ['a cell file holding {}', (d: string) => {
      const path = join(d, 'cells', readdirSync(join(d, 'cells')).sort()[0]!);
      writeFileSync(path, '{}');
      return path;
    }],
    ['a mean MoC of 500%', (d: string) => editCell(d, (c) => (c.meanMoc = 5))],
    ['a MoC cell of -10%', (d: string) => editCell(d, (c) => (c.moc[0].moc = -0.1))],
    ['an infinite effective rank', (d: string) => editCell(d, (c) => (c.ranks[0].erank.fused = 'Infinity'))],
    ['a NaN rank gain', (d: string) => editCell(d, (c) => (c.ranks[0].gainRgb = 'NaN'))],
    ['negative seconds', (d: string) => editCell(d, (c) => (c.seconds = -3))],
    ['a cell filed under another id', (d: string) => editCell(d, (c) => (c.cell.id = 'depth.mean.s9'))],
    ['a cell made with other settings', (d: string) => {
      const other = folder(`other-${Math.random().toString(36).slice(2)}`, 1, { epochs: 5 });
      const file = readdirSync(join(other, 'cells')).sort()[0]!;
      const path = join(d, 'cells', file);
      writeFileSync(path, readFileSync(join(other, 'cells', file)));
      return path;
    }],
  ])('%s is an error naming the file, and nothing is written', (name, damage) => {
    const a = folder(`in-${name.replace(/\W+/g, '-')}`, 1);
    const b = folder(`in2-${name.replace(/\W+/g, '-')}`, 2);
    const path = damage(a);
    const out = join(tmp, `merged-${name.replace(/\W+/g, '-')}`);
    expect(() => mergeResultFolders(out, [a, b])).toThrow(AblationResultError);
    expect(() => mergeResultFolders(out, [a, b])).toThrow(path);
    expect(existsSync(join(out, 'grid.json'))).toBe(false);
  });

  it('a resumed run stops at a damaged cell instead of dropping it', async () => {
    const out = join(tmp, 'resume-damaged');
    const config = parseAblationConfig(tinyConfig(out, { partners: ['rgb', 'depth'] }));
    openResultFolder(config);
    for (const c of gridCells(config)) writeCell(out, fakeCellResult(c));
    const path = cellPath(out, gridCells(config)[1]!.id);
    writeFileSync(path, '{}');
    await expect(runAblation(config, { log: quiet })).rejects.toThrow(path);
    expect(readFileSync(path, 'utf8')).toBe('{}');
  });
});

describe('a failed run', () => {
  it('leaves a grid.json that does not block a corrected rerun while the folder holds no results', async () => {
    const out = join(tmp, 'failed-then-fixed');
    const empty = join(tmp, 'empty-futr');
    mkdirSync(empty);
    // the futr layout has no imu: this run fails when it loads the data, after opening the folder
    const bad = parseAblationConfig(tinyConfig(out, { dataset: 'futr', data: empty, partners: ['imu'] }));
    await expect(runAblation(bad, { log: quiet })).rejects.toThrow(/imu/);
    expect(readCells(out)).toEqual([]);
    const fixed = await runAblation(parseAblationConfig(tinyConfig(out, { partners: ['depth'] })), { log: quiet });
    expect(fixed.ran).toEqual(['depth.rtf-variance.r0.3.s1']);
  });

  it('with results in the folder, other settings are still refused', async () => {
    const out = folder('has-results', 1);
    const before = readFileSync(join(out, 'grid.json'), 'utf8');
    await expect(runAblation(parseAblationConfig(tinyConfig(out)), { log: quiet })).rejects.toThrow(/other settings/);
    expect(readFileSync(join(out, 'grid.json'), 'utf8')).toBe(before);
  });
});

describe('writers of one folder', () => {
  const heldBy = (dir: string, pid: number) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), since: '2026-01-01T00:00:00.000Z', command: 'r3d-ablation run', token: 'feedfeed' }));
  };
  const settings = (out: string, shard?: string) => parseAblationConfig({ out, partners: ['rgb', 'depth', 'text'], fusers: ['mean'], seeds: [1, 2], epochs: 2, ...(shard ? { shard } : {}) });

  it('a whole-grid run that another live process is writing: a second run and a merge into it are refused naming that process', async () => {
    const out = folder('held', 1);
    heldBy(join(out, '.r3d-writers', 'all'), process.ppid);
    const named = new RegExp(`${out} is in use by pid ${process.ppid} on host ${hostname()}`);
    await expect(runAblation(settings(out), { log: quiet })).rejects.toThrow(OutputFolderLockedError);
    await expect(runAblation(settings(out), { log: quiet })).rejects.toThrow(named);
    expect(() => openForWriting(settings(out, '2/2'))).toThrow(named);
    expect(() => mergeResultFolders(out, [folder('held-in', 2)])).toThrow(named);
    expect(() => openForWriting(settings(out), { overwrite: true })).toThrow(named);
    // a report of what is finished may be written meanwhile
    await writeReportFor(out);
    expect(JSON.parse(readFileSync(join(out, '.r3d-writers', 'all', LOCK_FILE), 'utf8')).token).toBe('feedfeed');
  });

  it('shards of one grid write side by side; the same shard, another shard count or the whole grid are refused', () => {
    const out = folder('shards', 1);
    heldBy(join(out, '.r3d-writers', 'shard-1-of-2'), process.ppid);
    for (const clash of ['1/2', '1/3', '2/3', undefined]) expect(() => openForWriting(settings(out, clash)), String(clash)).toThrow(OutputFolderLockedError);
    const second = openForWriting(settings(out, '2/2'));
    expect(second.key).toBe('shard-2-of-2');
    expect(readdirSync(join(out, '.r3d-writers')).sort()).toEqual(['shard-1-of-2', 'shard-2-of-2']);
    second.release();
    expect(readdirSync(join(out, '.r3d-writers'))).toEqual(['shard-1-of-2']);
    // other settings are refused while a shard runs, even before any cell is finished
    rmSync(join(out, 'cells'), { recursive: true });
    expect(() => openForWriting(parseAblationConfig({ ...settings(out, '2/2'), epochs: 5 }))).toThrow(/is being written with other settings .* by pid/);
    expect(() => openForWriting(settings(out, '2/2'), { overwrite: true })).toThrow(OutputFolderLockedError);
  });

  it('a writer registration a dead process left is removed', () => {
    const out = folder('dead-writer', 1);
    heldBy(join(out, '.r3d-writers', 'all'), 2 ** 22 + 12345); // above the largest pid_max: never a running process
    const writer = openForWriting(settings(out));
    writer.release();
    expect(existsSync(join(out, '.r3d-writers'))).toBe(false);
  });

  it('a folder lock a dead process left on this host is taken over, and released at the end', async () => {
    const out = folder('dead-holder', 1);
    heldBy(out, 2 ** 22 + 12345);
    await writeReportFor(out);
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
    expect(existsSync(join(out, 'report.md'))).toBe(true);
  });

  it('what a killed run left half-written is removed when the folder is opened again', () => {
    const out = folder('orphans', 1);
    const dead = 2 ** 22 + 12345; // above the largest pid_max: the writer is surely gone (a small pid may be running on CI)
    writeFileSync(join(out, `.grid.json.${dead}.m0abc12.tmp`), '{"fing');
    writeFileSync(join(out, 'cells', `.rgb.none.s2.json.${dead}.m0abc13.tmp`), '{"ce');
    openResultFolder(parseAblationConfig({ out, partners: ['rgb', 'depth', 'text'], fusers: ['mean'], seeds: [1, 2], epochs: 2 }));
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readdirSync(join(out, 'cells')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--overwrite replaces results made with other settings', async () => {
    const out = folder('overwrite', 1);
    const summary = await runAblation(parseAblationConfig(tinyConfig(out, { partners: ['depth'] })), { log: quiet, overwrite: true });
    expect(summary.ran).toEqual(['depth.rtf-variance.r0.3.s1']);
    expect(readCells(out).map((c) => c.cell.id)).toEqual(['depth.rtf-variance.r0.3.s1']);
  });
});
