#!/usr/bin/env node
// Install step: builds the OpenBLAS addon with node-gyp and never fails the install. When the build
// fails (no compiler, no Python, no cblas.h, no libopenblas) it records a one-line reason in
// build/addon-status.json, which the loader reports so the backend selector can say why it
// skipped native-blas. Set R3D_NATIVE_BLAS_REQUIRED=1 to make a failed build fail the install.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blasFlags } from './blas-paths.mjs';

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const statusFile = join(root, 'build', 'addon-status.json');

function writeStatus(status) {
  mkdirSync(dirname(statusFile), { recursive: true });
  const tmp = `${statusFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(status, null, 2)}\n`);
  renameSync(tmp, statusFile);
}

/** node-gyp as the package manager provides it, else the copies bundled with npm and pnpm. */
function findNodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) {
    return [process.execPath, process.env.npm_config_node_gyp];
  }
  const prefix = resolve(dirname(process.execPath), '..');
  for (const rel of ['lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js', 'lib/node_modules/pnpm/dist/node_modules/node-gyp/bin/node-gyp.js']) {
    const p = join(prefix, rel);
    if (existsSync(p)) return [process.execPath, p];
  }
  return ['node-gyp'];
}

/** Node's own headers (Debian/Homebrew/nvm installs ship them), so node-gyp downloads nothing. */
function nodeDirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

/** The first line of a failed build that says what was missing. */
export function failureReason(output) {
  const header = output.match(/fatal error: ([^\s:]+): No such file or directory/) ?? output.match(/fatal error: '([^']+)' file not found/);
  if (header) return `${header[1]} not found (install OpenBLAS headers, e.g. apt-get install libopenblas-dev, or set R3D_BLAS_INCLUDE)`;
  const lib = output.match(/cannot find -l(\S+?):?\s/) ?? output.match(/library '?(?:-l)?([\w.+-]+?)'? not found/);
  if (lib) return `lib${lib[1]} not found (install OpenBLAS, e.g. apt-get install libopenblas-dev, or set R3D_BLAS_LIB)`;
  if (/gyp ERR! find Python|Could not find any Python/i.test(output)) return 'node-gyp found no Python 3';
  if (/not found: (make|cc|gcc|g\+\+|c\+\+)|No such file or directory: '?(make|cc|gcc)/.test(output)) return 'no C compiler or make';
  const compileErr = output.split('\n').find((l) => /: error: /.test(l));
  if (compileErr) return `compile error: ${compileErr.trim().slice(0, 300)}`;
  const gypErr = output.split('\n').find((l) => /gyp ERR! (stack )?Error:/.test(l) || /^gyp: /.test(l));
  if (gypErr) return gypErr.replace(/^gyp ERR! (stack )?/, '').trim();
  const last = output.trim().split('\n').filter(Boolean).pop();
  return last ? last.trim().slice(0, 300) : 'node-gyp failed without output';
}

/** What the addon was built from; an unchanged fingerprint skips the rebuild (installs re-run this). */
function fingerprint() {
  const h = createHash('sha256');
  h.update(`${process.version} ${process.arch} ${process.platform}\n`);
  for (const k of ['R3D_BLAS_INCLUDE', 'R3D_BLAS_LIB', 'R3D_BLAS_LIBNAME', 'OPENBLAS_HOME']) h.update(`${k}=${process.env[k] ?? ''}\n`);
  h.update(readFileSync(join(root, 'binding.gyp')));
  const srcDir = join(root, 'src', 'addon');
  for (const f of readdirSync(srcDir).sort()) h.update(f).update(readFileSync(join(srcDir, f)));
  return h.digest('hex');
}

function upToDate(print) {
  try {
    const status = JSON.parse(readFileSync(statusFile, 'utf8'));
    return status.built === true && status.fingerprint === print && existsSync(join(root, 'build', 'Release', 'r3d_blas.node'));
  } catch {
    return false;
  }
}

/**
 * The build's verdict on a missing cblas.h or BLAS library, a second ahead of it: one tiny program
 * compiled and linked with binding.gyp's own flags (scripts/blas-paths.mjs), before the addon's
 * sources spend half a minute compiling at -O3 only to fail at the link. Any other outcome of the
 * probe (it links, there is no `cc`, the compiler says something else) leaves the verdict to
 * node-gyp's build.
 */
function missingBlas() {
  const out = join(tmpdir(), `r3d-blas-probe-${process.pid}`);
  const probe = spawnSync(process.env.CC || 'cc', ['-x', 'c', '-', '-o', out, ...blasFlags('include').map((d) => `-I${d}`), ...blasFlags('libs')], {
    input: '#include <cblas.h>\nint main(void) { return cblas_sdot(0, 0, 1, 0, 1) != 0.0f; }\n',
    encoding: 'utf8',
    env: process.env,
  });
  rmSync(out, { force: true });
  if (probe.error || probe.status === 0) return undefined;
  const output = `${probe.stdout ?? ''}\n${probe.stderr ?? ''}`;
  const reason = failureReason(output);
  return /^\S+ not found \(install OpenBLAS/.test(reason) ? { reason, output } : undefined;
}

function failed(reason, output) {
  writeStatus({ built: false, reason, at: new Date().toISOString(), log: output.slice(-4000) });
  process.stderr.write(`@r3d-ts/native-blas: addon not built: ${reason}\n  (the backend selector will skip native-blas)\n`);
  return process.env.R3D_NATIVE_BLAS_REQUIRED === '1' ? 1 : 0;
}

function main() {
  if (process.env.R3D_NATIVE_BLAS_SKIP_BUILD) {
    writeStatus({ built: false, reason: 'build skipped (R3D_NATIVE_BLAS_SKIP_BUILD is set)', at: new Date().toISOString() });
    return 0;
  }
  const print = fingerprint();
  if (!process.env.R3D_NATIVE_BLAS_FORCE_BUILD && upToDate(print)) return 0;
  const missing = missingBlas();
  if (missing) return failed(missing.reason, missing.output);
  const [cmd, ...pre] = findNodeGyp();
  const args = [...pre, 'rebuild', ...nodeDirArgs()];
  const run = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: process.env, maxBuffer: 64 << 20 });
  const output = `${run.stdout ?? ''}\n${run.stderr ?? ''}`;
  const built = run.status === 0 && existsSync(join(root, 'build', 'Release', 'r3d_blas.node'));
  if (built) {
    writeStatus({ built: true, fingerprint: print, at: new Date().toISOString() });
    return 0;
  }
  return failed(run.error ? `cannot run node-gyp: ${run.error.message}` : failureReason(output), output);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(main());
