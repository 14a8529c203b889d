import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * An output folder that cannot be written: the path (or a folder above it) is a file, or the
 * nearest existing folder is read-only. `path` is what the user gave; the message says which
 * part is in the way.
 *
 * @example
 * try { assertWritableFolder('runs/a'); } catch (e) { if (e instanceof OutputFolderError) console.error(e.message); }
 */
export class OutputFolderError extends Error {
  readonly code = 'OUTPUT_FOLDER';
  readonly path: string;

  constructor(path: string, message: string, cause?: unknown) {
    super(`${path}: ${message}`, cause != null ? { cause } : undefined);
    this.name = 'OutputFolderError';
    this.path = path;
  }
}

/**
 * Checks, before any work starts and without creating anything, that `path` can be used as an
 * output folder: it is a folder or does not exist yet, no part above it is a file, and the
 * nearest existing folder is writable (a read-only mount or a folder without write permission
 * fails here rather than after minutes of training). Throws an `OutputFolderError`.
 *
 * @example
 * assertWritableFolder(config.out); // then train, knowing the checkpoints have somewhere to go
 */
export function assertWritableFolder(path: string): void {
  let at = resolve(path);
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(at).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOTDIR: a file above; walking up finds it and names it
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new OutputFolderError(path, `cannot use ${at} (${code ?? String(err)})`, err);
      const up = dirname(at);
      if (up === at) return;
      at = up;
      continue;
    }
    if (!isDir) throw new OutputFolderError(path, at === resolve(path) ? 'expected a folder to write into, found a file' : `expected a folder path, but ${at} is a file`);
    try {
      accessSync(at, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EACCES';
      const why = code === 'EROFS' ? 'a read-only file system' : 'no write permission';
      throw new OutputFolderError(path, `cannot write into ${at} (${why}, ${code})`, err);
    }
    return;
  }
}
