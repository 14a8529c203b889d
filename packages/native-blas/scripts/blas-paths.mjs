#!/usr/bin/env node
// Prints the compiler flags binding.gyp needs to find a CBLAS, one per line:
//   `include` -> include directories, `libs` -> linker arguments.
// R3D_BLAS_INCLUDE / R3D_BLAS_LIB (directories, ':'-separated) and R3D_BLAS_LIBNAME (default
// `openblas`) override the search; otherwise the usual Homebrew and Linux layouts are probed, and
// the compiler's own search path covers Debian/Ubuntu (`libopenblas-dev`).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const env = process.env;
const split = (v) => (v ? v.split(':').filter(Boolean) : []);
const probes = [
  env.OPENBLAS_HOME && join(env.OPENBLAS_HOME, 'include'),
  '/opt/homebrew/opt/openblas/include',
  '/usr/local/opt/openblas/include',
  '/usr/include/openblas',
].filter(Boolean);

const includes = env.R3D_BLAS_INCLUDE ? split(env.R3D_BLAS_INCLUDE) : probes.filter((d) => existsSync(join(d, 'cblas.h')));
const libDirs = env.R3D_BLAS_LIB
  ? split(env.R3D_BLAS_LIB)
  : includes.map((d) => join(d, '..', 'lib')).filter((d) => existsSync(d) && !d.startsWith('/usr/include'));
const libName = env.R3D_BLAS_LIBNAME || 'openblas';

const what = process.argv[2];
if (what === 'include') {
  for (const d of includes) console.log(d);
} else if (what === 'libs') {
  for (const d of libDirs) {
    console.log(`-L${d}`);
    if (process.platform !== 'win32') console.log(`-Wl,-rpath,${d}`);
  }
  console.log(`-l${libName}`);
  if (process.platform !== 'win32') console.log('-lm');
} else {
  console.error('usage: blas-paths.mjs include|libs');
  process.exit(2);
}
