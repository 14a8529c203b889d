import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs script without typings
import { failureReason } from '../scripts/build-addon.mjs';
import { defaultThreadCount, loadAddon, openBlasCoreType } from './addon.js';
import { getBlasThreads, nativeBlasStatus, setBlasThreads } from './index.js';
import { poisonedBuild } from './testing/poisoned-build.js';

describe('thread count', () => {
  it('defaults to R3D_BLAS_THREADS, else OpenBLAS own setting, else every core', () => {
    expect(defaultThreadCount({ R3D_BLAS_THREADS: '3' })).toBe(3);
    expect(defaultThreadCount({ OPENBLAS_NUM_THREADS: '1' })).toBeUndefined();
    expect(defaultThreadCount({})).toBe(availableParallelism());
    expect(() => defaultThreadCount({ R3D_BLAS_THREADS: 'two' })).toThrow(/R3D_BLAS_THREADS must be an integer >= 1, got 'two'/);
  });

  it.skipIf(!nativeBlasStatus().available)('is set and read through OpenBLAS', () => {
    const before = getBlasThreads();
    try {
      setBlasThreads(1);
      expect(getBlasThreads()).toBe(1);
      expect(() => setBlasThreads(0)).toThrow(RangeError);
    } finally {
      setBlasThreads(before);
    }
  });
});

describe('OpenBLAS kernel family', () => {
  it('is OPENBLAS_CORETYPE when set, else Haswell on x86-64, else OpenBLAS own choice', () => {
    expect(openBlasCoreType({}, 'x64')).toBe('Haswell');
    expect(openBlasCoreType({ OPENBLAS_CORETYPE: 'Zen' }, 'x64')).toBe('Zen');
    expect(openBlasCoreType({}, 'arm64')).toBeUndefined();
  });

  it.skipIf(!nativeBlasStatus().available || process.arch !== 'x64')('is what the loaded OpenBLAS runs: Haswell where the variable is unset, the user\'s value where set', () => {
    // a fresh process each: OpenBLAS reads the variable once, when the addon loads it
    const config = (coreType: string | undefined): string => {
      const { OPENBLAS_CORETYPE: _unset, ...env } = process.env;
      const entry = fileURLToPath(new URL('./addon.ts', import.meta.url));
      const script = `import { loadAddon } from ${JSON.stringify(entry)}; const s = loadAddon(); console.log(s.ok ? s.addon.config() : s.reason);`;
      const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: coreType ? { ...env, OPENBLAS_CORETYPE: coreType } : env, encoding: 'utf8', timeout: 60_000 });
      return out.stdout + out.stderr;
    };
    expect(config(undefined)).toMatch(/\(core Haswell\)/);
    expect(config('Sandybridge')).toMatch(/\(core Sandybridge\)/);
  });
});

describe('install step without BLAS', () => {
  it('names the missing header or library from the compiler output', () => {
    expect(failureReason("src/addon/matmul.c:5:10: fatal error: cblas.h: No such file or directory\n")).toMatch(/^cblas\.h not found/);
    expect(failureReason("ld: library 'openblas' not found\n")).toMatch(/^libopenblas not found/);
    expect(failureReason('/usr/bin/ld: cannot find -lopenblas: No such file or directory\n')).toMatch(/^libopenblas not found/);
  });

  it('exits 0, records why, and the loader reports that reason', () => {
    const { status, dir, record, stderr } = poisonedBuild();
    try {
      expect(status).toBe(0);
      expect(record.built).toBe(false);
      expect(record.reason).toMatch(/libr3d_no_such_blas not found/);
      // the quick probe answered: the addon's sources never went to node-gyp
      expect(record.log).not.toContain('gyp');
      expect(stderr).toContain('addon not built');
      const loaded = loadAddon({ R3D_NATIVE_BLAS_ADDON_DIR: dir });
      expect(loaded.ok).toBe(false);
      expect(!loaded.ok && loaded.reason).toMatch(/^addon not built: libr3d_no_such_blas not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves the verdict to node-gyp when the quick probe cannot run (no such compiler)', () => {
    const { status, dir, record } = poisonedBuild(undefined, { CC: join(tmpdir(), 'r3d-no-such-cc') });
    try {
      expect(status).toBe(0);
      expect(record.built).toBe(false);
      expect(record.log).toContain('gyp ERR!');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!nativeBlasStatus().available)('the addon refuses what it cannot read, naming the argument', () => {
  const status = loadAddon();
  const addon = status.ok ? status.addon : undefined!;

  it('copy moves bytes or 4-byte words, never one into the other', () => {
    const out = new Uint8Array(4);
    addon.copy(new Uint8Array([1, 0, 1]), out, [2, 2], [1, 0], [2, 1], 0, 0);
    expect(Array.from(out)).toEqual([1, 1, 0, 0]);
    expect(() => addon.copy(new Float32Array(4), new Uint8Array(4), [4], [1], [1], 0, 0)).toThrow(/copy: x and out must have the same element size/);
    expect(() => addon.copy(new Float64Array(4) as never, new Float64Array(4) as never, [4], [1], [1], 0, 0)).toThrow(/x must be a Uint8Array, Float32Array, Int32Array or Uint32Array/);
    expect(() => addon.copy(new Uint8Array(3), new Uint8Array(4), [4], [1], [1], 0, 0)).toThrow(/reach outside the operands/);
  });

  it('select takes a Uint8Array condition and word arrays at least as long', () => {
    const out = new Float32Array(3);
    addon.select(new Uint8Array([1, 0, 1]), new Float32Array([1, 2, 3]), new Float32Array([-1, -2, -0]), out);
    expect(Array.from(out)).toEqual([1, -2, 3]);
    expect(() => addon.select(new Float32Array(3) as never, new Float32Array(3), new Float32Array(3), out)).toThrow(/condition must be a Uint8Array/);
    expect(() => addon.select(new Uint8Array(4), new Float32Array(3), new Float32Array(4), new Float32Array(4))).toThrow(/at least as many elements as condition/);
  });
});
