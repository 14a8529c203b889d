import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a file so that readers see either the old content or the complete new one, never a
 * prefix: the data goes to a temporary file in the same folder (created if needed), is flushed to
 * disk, then renamed over the target (rename is atomic within a file system), and the folder entry
 * is flushed too. A failure removes the temporary file and leaves the target as it was.
 *
 * @example
 * writeFileAtomic('exports/r3d/config.json', JSON.stringify(config));
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}

/**
 * Flushes a folder's entries (a rename into it) to disk; a no-op where folders cannot be opened.
 *
 * @example
 * renameSync(tmpDir, finalDir); fsyncDir(dirname(finalDir));
 */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows and some file systems refuse fsync on folders; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

// `.<name>.<pid>.<stamp>.tmp`, as writeFileAtomic names its temporary files
const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-z]+\.tmp$/;

/** Whether a process with this pid runs on this host (EPERM: it runs, under another user). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files `writeFileAtomic` left in `dir` (not below it) when a process died
 * between writing and renaming one, and returns their names. A temporary file whose writer (the
 * pid in its name) still runs is left alone: writers that share a folder (the shards of one
 * ablation grid) write their own files without holding the folder's lock, so such a file may be
 * a write in progress. Our own pid's files are orphans (writeFileAtomic is synchronous, so none of
 * ours is in flight), left by an earlier process that had this pid. A lock being taken
 * (`.r3d-lock.*.tmp`) is left alone.
 *
 * @example
 * const lock = lockFolder(out); removeOrphanTemporaries(out); // .log.jsonl.4242.lx1k2abc.tmp is gone if pid 4242 is not running
 */
export function removeOrphanTemporaries(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed = names.filter((n) => {
    const pid = TEMP_NAME.exec(n)?.[1];
    if (pid === undefined || n.startsWith('.r3d-lock.')) return false;
    return Number(pid) === process.pid || !isProcessRunning(Number(pid));
  });
  for (const n of removed) rmSync(join(dir, n), { force: true, recursive: true });
  return removed;
}
