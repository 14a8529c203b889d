// Output paths a run cannot use, and a disk that fills up (issue 14 class 8 file-system errors,
// class 17 disk full): one line, exit 2, and nothing half-written.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { sharedFixture } from '@r3d-ts/tooling/vitest/fixtures';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectUserError, runPiped } from './commands.js';
import { r3dConfig, removeTempDirs, tempDir, TINY_SYNTHETIC, write } from './inputs.js';
import { mountTmpfs, readOnlyFolder } from './mounts.js';

afterAll(removeTempDirs);

const fixture = sharedFixture('darai-demo');

/** Every file under `dir`, relative. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Whole files only: no temporary file left, every JSON and JSON-lines file parses, every SVG/HTML closes, every PNG has its end chunk. */
function expectNothingHalfWritten(dir: string): void {
  for (const f of files(dir)) {
    expect(f, 'a temporary file was left behind').not.toMatch(/\.tmp($|-)|\.tmp\.|\.old$/);
    const text = () => readFileSync(join(dir, f), 'utf8');
    if (f.endsWith('.json')) expect(() => JSON.parse(text()), f).not.toThrow();
    if (f.endsWith('.jsonl')) for (const line of text().split('\n').filter(Boolean)) expect(() => JSON.parse(line), f).not.toThrow();
    if (f.endsWith('.svg')) expect(text().trimEnd(), f).toMatch(/<\/svg>$/);
    if (f.endsWith('.html')) expect(text().trimEnd(), f).toMatch(/<\/html>$/);
    if (f.endsWith('.png')) expect(readFileSync(join(dir, f)).subarray(-8, -4).toString('latin1'), f).toBe('IEND');
  }
}

describe('output paths that cannot be used are refused before any work (class 8)', () => {
  const dir = tempDir('out');
  const config = r3dConfig(dir, TINY_SYNTHETIC);
  const file = write(join(dir, 'a-file'), 'x');

  it.each([
    ['r3d train: --out is a file', 'r3d', ['train', '-c', config, '--out', file], /a-file: expected a folder to write into, found a file/],
    ['r3d train: --out is under a file', 'r3d', ['train', '-c', config, '--out', join(file, 'run')], /expected a folder path, but .*a-file is a file/],
    ['r3d eval: --output is under a file', 'r3d', ['eval', '--checkpoint', join(dir, 'none'), '--output', join(file, 'x', 'eval.jsonl')], /a-file is a file/],
    ['r3d-ablation: --out is a file', 'r3d-ablation', ['--partners', 'depth', '--seeds', '1', '--out', file], /a-file: expected a folder to write into/],
    ['r3d-ablation merge: the target is under a file', 'r3d-ablation', ['merge', join(file, 'merged'), dir], /a-file is a file/],
  ] as const)('%s', (_name, cli, args, message) => {
    expectUserError(runPiped(cli, args), cli, message);
  });

  it('a read-only output folder', (context) => {
    const ro = readOnlyFolder();
    if ('reason' in ro) {
      console.warn(`[skip] read-only folder: ${ro.reason}`);
      context.skip();
      return;
    }
    try {
      expectUserError(runPiped('r3d', ['train', '-c', config, '--out', join(ro.dir, 'run')]), 'r3d', /cannot write into .* \((a read-only file system, EROFS|no write permission, EACCES)\)/);
      expectUserError(runPiped('r3d-ablation', ['--partners', 'depth', '--seeds', '1', '--out', join(ro.dir, 'grid')]), 'r3d-ablation', /cannot write into/);
    } finally {
      ro.release();
    }
  });
});

describe('a disk that fills up: one line, exit 2, nothing half-written (class 17, disk full)', () => {
  it('r3d train into a 1 MiB file system (the checkpoint does not fit)', (context) => {
    const fs = mountTmpfs('1m');
    if ('reason' in fs) {
      console.warn(`[skip] disk full: ${fs.reason}`);
      context.skip();
      return;
    }
    try {
      const dir = tempDir('full');
      const r = runPiped('r3d', ['train', '-c', r3dConfig(dir, { ...TINY_SYNTHETIC, featureDim: 2048 }, { model: { hidden: 64, heads: 2, ffnDim: 128 } }), '--out', join(fs.dir, 'run')]);
      expect(r.status, r.stderr).toBe(2);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('r3d: '));
      expect(errors, r.stderr).toEqual([expect.stringMatching(/^r3d: ENOSPC: no space left on device/)]);
      expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(errors[0]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expectNothingHalfWritten(fs.dir);
      expect(files(fs.dir).filter((f) => f.includes('weights.safetensors'))).toEqual([]);
    } finally {
      fs.unmount();
    }
  });

  it.skipIf(!fixture)('r3d-ablation darai-demo report into a 64 KiB file system', (context) => {
    const fs = mountTmpfs('64k');
    if ('reason' in fs) {
      console.warn(`[skip] disk full: ${fs.reason}`);
      context.skip();
      return;
    }
    try {
      const r = runPiped('r3d-ablation', ['--dataset', 'darai-demo', '--data', fixture!, '--out', join(fs.dir, 'demo')]);
      expectUserError(r, 'r3d-ablation', /ENOSPC: no space left on device/);
      expectNothingHalfWritten(fs.dir);
    } finally {
      fs.unmount();
    }
  });
});
