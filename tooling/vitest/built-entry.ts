import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';

/**
 * The newest modification time among files, or the files under folders, that exist (0 when none
 * does), leaving out tests and test helpers: they are not part of any build.
 *
 * @example
 * newestModification([join(dir, 'src'), join(dir, 'package.json')]) > statSync(join(dir, 'dist', 'cli.mjs')).mtimeMs; // stale
 */
export function newestModification(paths: readonly string[]): number {
  let newest = 0;
  const visit = (p: string): void => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(join(p, name));
    else if (!/\.test\.tsx?$|^test-helpers\.ts$/.test(basename(p))) newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of paths) visit(p);
  return newest;
}

/** The newest modification time among a package's build inputs: turbo's `build` inputs (turbo.json). */
function newestInput(packageDir: string): number {
  return newestModification(['src', 'tsup.config.ts', 'tsconfig.json', 'package.json'].map((f) => join(packageDir, f)));
}

function isFresh(out: string, packageDir: string): boolean {
  return existsSync(out) && statSync(out).mtimeMs >= newestInput(packageDir);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The package's built entry `dist/<entry>.mjs`, rebuilt first (its own `tsup`) when a source file,
 * `tsup.config.ts`, `tsconfig.json` or `package.json` is newer. Tests spawn the CLI this way
 * rather than through a TypeScript loader: a loader costs every process about 0.4 s and a second of
 * CPU with its workers, and the built file is what users run. One test process builds at a time (a
 * lock folder); the others wait and reuse its build.
 *
 * @example
 * spawnSync(process.execPath, [builtEntry(appDir), '--help']);
 */
export function builtEntry(packageDir: string, entry = 'cli'): string {
  const out = join(packageDir, 'dist', `${entry}.mjs`);
  if (isFresh(out, packageDir)) return out;
  const lock = join(packageDir, 'node_modules', '.built-entry.lock');
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // a build that died holding the lock (killed test run) does not block the next for long
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      if (waited > 600_000) throw new Error(`builtEntry: ${lock} held for over 10 minutes`);
      sleep(200);
    }
  }
  try {
    if (isFresh(out, packageDir)) return out;
    const pkg = createRequire(join(packageDir, 'package.json')).resolve('tsup/package.json');
    const bin = (JSON.parse(readFileSync(pkg, 'utf8')) as { bin: Record<string, string> }).bin.tsup!;
    console.log(`[builtEntry] ${out} is missing or older than its sources: running tsup in ${packageDir}`);
    const r = spawnSync(process.execPath, [join(pkg, '..', bin)], { cwd: packageDir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tsup failed in ${packageDir}:\n${r.stdout}\n${r.stderr}`);
    if (!existsSync(out)) throw new Error(`tsup in ${packageDir} did not write ${out}`);
    // an unchanged output may keep its old time: mark it as built from the current sources
    const now = new Date();
    utimesSync(out, now, now);
    return out;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
