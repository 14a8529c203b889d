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
const TEMP_NAME = /^\..+\.\d+\.[0-9a-z]+\.tmp$/;

/**
 * Removes the temporary files `writeFileAtomic` left in `dir` (not below it) when a process died
 * between writing and renaming one, and returns their names. Call it holding the folder's lock
 * (`lockFolder`): then no other writer can be in the middle of a write there. A lock being taken
 * (`.r3d-lock.*.tmp`) is left alone.
 *
 * @example
 * const lock = lockFolder(out); removeOrphanTemporaries(out); // .log.jsonl.4242.lx1k2abc.tmp is gone
 */
export function removeOrphanTemporaries(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed = names.filter((n) => TEMP_NAME.test(n) && !n.startsWith('.r3d-lock.'));
  for (const n of removed) rmSync(join(dir, n), { force: true, recursive: true });
  return removed;
}
