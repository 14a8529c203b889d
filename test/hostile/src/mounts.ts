// Small file systems the tests mount to make a disk full or read-only (root only; skipped otherwise).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './inputs.js';

export const isRoot = process.getuid?.() === 0;

/** Mounts a tmpfs of `size` (e.g. `64k`, `1m`) with `options` at a new folder; undefined (with the reason) when it cannot. */
export function mountTmpfs(size: string, options = 'rw'): { dir: string; unmount: () => void } | { reason: string } {
  if (!isRoot) return { reason: 'not root: cannot mount a tmpfs' };
  const dir = join(tempDir('mount'), 'fs');
  mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `${options},size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return { reason: `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}` };
  return { dir, unmount: () => void spawnSync('umount', [dir]) };
}

/**
 * A folder nobody may write into: a read-only tmpfs when root (root ignores permissions), else a
 * folder with mode 0555. Undefined with the reason when neither works.
 */
export function readOnlyFolder(): { dir: string; release: () => void } | { reason: string } {
  if (isRoot) {
    const m = mountTmpfs('64k', 'ro');
    return 'reason' in m ? m : { dir: m.dir, release: m.unmount };
  }
  const dir = join(tempDir('read-only'), 'ro');
  mkdirSync(dir);
  chmodSync(dir, 0o555);
  return { dir, release: () => chmodSync(dir, 0o755) };
}
