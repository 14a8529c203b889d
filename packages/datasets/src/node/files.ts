import { readdirSync, readFileSync } from 'node:fs';
import { DatasetFormatError } from '../errors.js';

/**
 * Reads a file, turning a missing or unreadable file into a `DatasetFormatError` naming it.
 *
 * @example
 * const bytes = readFile('groundTruth/video1.txt');
 */
export function readFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DatasetFormatError({ file: path, expected: 'a readable file', found: (e as NodeJS.ErrnoException).code ?? String(e), cause: e });
  }
}

/**
 * Lists a folder, turning a missing folder into a `DatasetFormatError` naming it.
 *
 * @example
 * const names = listDir('features/');
 */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    throw new DatasetFormatError({ file: dir, expected: 'a readable folder', found: (e as NodeJS.ErrnoException).code ?? String(e), cause: e });
  }
}

/**
 * Files of a folder whose names match `pattern` (first capture group: the frame number), sorted
 * numerically (so `img10` follows `img9`, as UTKinect's non-contiguous numbering needs).
 *
 * @example
 * numberedFiles('RGB/s01_e01', /^colorImg(\d+)\.jpg$/); // [{ n: 190, name: 'colorImg190.jpg' }, ...]
 */
export function numberedFiles(dir: string, pattern: RegExp): { n: number; name: string }[] {
  const out: { n: number; name: string }[] = [];
  for (const name of listDir(dir)) {
    const m = pattern.exec(name);
    if (m) out.push({ n: Number(m[1]), name });
  }
  out.sort((a, b) => a.n - b.n || (a.name < b.name ? -1 : 1));
  return out;
}
