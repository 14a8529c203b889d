#!/usr/bin/env node
// Prints the compiler flags binding.gyp needs to find a CBLAS, one per line:
//   `include` -> include directories, `libs` -> linker arguments.
// R3D_BLAS_INCLUDE / R3D_BLAS_LIB (directories, ':'-separated) and R3D_BLAS_LIBNAME (default
// `openblas`) override the search; otherwise the usual Homebrew and Linux layouts are probed, and
// the compiler's own search path covers Debian/Ubuntu (`libopenblas-dev`).
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The flags for `what`: 'include' -> include directories, 'libs' -> linker arguments. binding.gyp
 * runs this file for them; the install step's BLAS probe imports it, so both use the same flags.
 *
 * @example
 * blasFlags('libs'); // ['-lopenblas', '-lm'] on Debian with libopenblas-dev
 */
export function blasFlags(what, env = process.env) {
  const split = (v) => (v ? v.split(':').filter(Boolean) : []);
  const probes = [
    env.OPENBLAS_HOME && join(env.OPENBLAS_HOME, 'include'),
    '/opt/homebrew/opt/openblas/include',
    '/usr/local/opt/openblas/include',
    '/usr/include/openblas',
  ].filter(Boolean);
  const includes = env.R3D_BLAS_INCLUDE ? split(env.R3D_BLAS_INCLUDE) : probes.filter((d) => existsSync(join(d, 'cblas.h')));
  if (what === 'include') return includes;
  if (what !== 'libs') throw new RangeError(`blasFlags: expected 'include' or 'libs', got '${what}'`);
  const libDirs = env.R3D_BLAS_LIB
    ? split(env.R3D_BLAS_LIB)
    : includes.map((d) => join(d, '..', 'lib')).filter((d) => existsSync(d) && !d.startsWith('/usr/include'));
  const unix = process.platform !== 'win32';
  return [...libDirs.flatMap((d) => (unix ? [`-L${d}`, `-Wl,-rpath,${d}`] : [`-L${d}`])), `-l${env.R3D_BLAS_LIBNAME || 'openblas'}`, ...(unix ? ['-lm'] : [])];
}

// run as a script (binding.gyp's `<!@(node scripts/blas-paths.mjs ...)`), not imported; a symlinked path counts
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const what = process.argv[2];
  if (what !== 'include' && what !== 'libs') {
    console.error('usage: blas-paths.mjs include|libs');
    process.exit(2);
  }
  for (const flag of blasFlags(what)) console.log(flag);
}
