import { readFileSync } from 'node:fs';
import { SafetensorsFormatError } from '../errors.js';
import type { ReadOptions } from '../limits.js';
import { type SafetensorsContent, type SafetensorsInput, decodeSafetensors, encodeSafetensors } from '../safetensors.js';
import { writeFileAtomic } from './atomic.js';

/**
 * Reads and decodes a `.safetensors` file (see `decodeSafetensors` and its `maxBytes` option); a
 * missing or unreadable file and every format problem is a `SafetensorsFormatError` naming the path.
 *
 * @example
 * const { tensors } = readSafetensors('exports/r3d/weights.safetensors');
 */
export function readSafetensors(path: string, options?: ReadOptions): SafetensorsContent {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SafetensorsFormatError(path, 'a readable .safetensors file', code === 'ENOENT' ? 'none' : (err as Error).message, err);
  }
  return decodeSafetensors(bytes, path, options);
}

/**
 * Encodes (see `encodeSafetensors`) and writes atomically: a temporary file, fsync, then a rename.
 *
 * @example
 * writeSafetensors('w.safetensors', new Map([['fc.bias', { shape: [3], data: [1, 2, 3] }]]));
 */
export function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, SafetensorsInput> | Readonly<Record<string, SafetensorsInput>>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
