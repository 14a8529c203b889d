import { readFileSync } from 'node:fs';
import type { ReadOptions } from '../limits.js';
import { type NpyArray, type NpyInput, encodeNpy, parseNpy } from '../npy.js';
import { writeFileAtomic } from './atomic.js';

/**
 * Reads a `.npy` file from disk. See `parseNpy` (and its `maxBytes` option); a missing file is
 * Node's own `ENOENT` error.
 *
 * @example
 * const alpha = readNpy('alpha.npy'); // { dtype: 'float32', shape: [128], data }
 */
export function readNpy(path: string, options?: ReadOptions): NpyArray {
  return parseNpy(readFileSync(path), path, options);
}

/**
 * Writes a `.npy` file (see `encodeNpy`) atomically with `writeFileAtomic`, so a crash never
 * leaves a half-written array.
 *
 * @example
 * writeNpy('tokens.npy', { shape: [T, 128], data: tokens });
 */
export function writeNpy(path: string, array: NpyInput): void {
  writeFileAtomic(path, encodeNpy(array));
}
