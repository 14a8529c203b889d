import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { describeBackend, selectBackend } from './index.js';

// A machine without OpenBLAS: the native-blas install step is run on a copy of its sources with
// the library name poisoned, and this process (a fresh vitest worker) loads native-blas from there.
const require = createRequire(import.meta.url);
const nativeBlasRoot = dirname(require.resolve('@r3d-ts/native-blas/package.json'));
const dir = mkdtempSync(join(tmpdir(), 'r3d-no-blas-'));

describe('native-blas without BLAS', () => {
  afterAll(() => {
    delete process.env.R3D_NATIVE_BLAS_ADDON_DIR;
    rmSync(dir, { recursive: true, force: true });
  });

  it('install step exits 0; auto selection falls back to wasm and says why', async () => {
    for (const p of ['binding.gyp', 'scripts', join('src', 'addon')]) cpSync(join(nativeBlasRoot, p), join(dir, p), { recursive: true });
    const install = spawnSync(process.execPath, [join(dir, 'scripts', 'build-addon.mjs')], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, R3D_BLAS_LIBNAME: 'r3d_no_such_blas', R3D_NATIVE_BLAS_REQUIRED: '' },
    });
    expect(install.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'build', 'addon-status.json'), 'utf8')).built).toBe(false);

    process.env.R3D_NATIVE_BLAS_ADDON_DIR = dir;
    const report = await selectBackend({ env: {} });
    if (report.backend === 'tensorflow') return; // a machine with libtensorflow never reaches native-blas
    expect(report.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const skipped = report.skipped.find((s) => s.name === 'native-blas');
    expect(skipped?.reason).toMatch(/addon not built: libr3d_no_such_blas not found/);
    expect(describeBackend(report)).toContain('native-blas: addon not built: libr3d_no_such_blas not found');
  });
});
