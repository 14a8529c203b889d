import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Walks up from `start` to the folder holding `pnpm-workspace.yaml`. */
export function repoRoot(start: string = process.cwd()): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${start}`);
    dir = parent;
  }
}

/**
 * Locates a reference fixture in `../shared/fixtures/<name>` beside the repository root.
 * Returns `undefined` (and prints why) when it is absent on a user's clone, so the caller skips;
 * under `CI=true` a missing fixture is an error, because CI always has the folder.
 *
 * @example
 * const dir = sharedFixture('darai-demo');
 * describe.skipIf(!dir)('darai-demo parity', () => { ... });
 */
export function sharedFixture(name: string): string | undefined {
  const dir = join(repoRoot(), '..', 'shared', 'fixtures', name);
  if (existsSync(dir)) return dir;
  const msg = `fixture ../shared/fixtures/${name} is absent (expected at ${dir})`;
  if (process.env.CI === 'true') throw new Error(`${msg}: CI must have it`);
  console.warn(`[skip] ${msg}: tests that need it are skipped`);
  return undefined;
}
