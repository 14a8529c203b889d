import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Copies the addon sources to a temp directory and runs the install step there with
 * R3D_BLAS_LIBNAME pointing at a library that does not exist: a machine without OpenBLAS.
 * `env` adds to the environment. Returns the install step's exit code, the directory, and the build
 * record it wrote.
 */
export function poisonedBuild(root = packageRoot, env: Record<string, string> = {}): { status: number | null; dir: string; record: { built: boolean; reason?: string; log?: string }; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'r3d-native-blas-'));
  for (const p of ['binding.gyp', 'scripts', join('src', 'addon')]) cpSync(join(root, p), join(dir, p), { recursive: true });
  const run = spawnSync(process.execPath, [join(dir, 'scripts', 'build-addon.mjs')], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, R3D_BLAS_LIBNAME: 'r3d_no_such_blas', R3D_NATIVE_BLAS_REQUIRED: '', ...env },
  });
  const record = JSON.parse(readFileSync(join(dir, 'build', 'addon-status.json'), 'utf8'));
  return { status: run.status, dir, record, stderr: run.stderr };
}
