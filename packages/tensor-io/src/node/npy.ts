import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { ReadOptions } from '../limits.js';
import { type NpyArray, type NpyHeader, type NpyInput, encodeNpy, parseNpy, parseNpyHeader } from '../npy.js';
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

/** A `.npy` header read from disk, with the file's size. */
export interface NpyFileHeader extends NpyHeader {
  /** Size of the file in bytes: the data is complete when `fileBytes >= dataOffset + dataBytes`. */
  fileBytes: number;
}

// A header dict is a few hundred bytes; this bounds what a corrupt length field can make us read.
const MAX_HEADER_BYTES = 1 << 20;

/**
 * Reads only the header of a `.npy` file (see `parseNpyHeader`): a few hundred bytes whatever the
 * array's size, so shapes of a whole dataset can be listed in bounded memory and time. The data
 * is not read or checked beyond the file size returned next to the header. A missing file is
 * Node's own `ENOENT` error, as for `readNpy`.
 *
 * @example
 * const { shape, dataOffset, dataBytes, fileBytes } = readNpyHeader('features/video1.npy'); // [T, 2048]
 * const complete = fileBytes >= dataOffset + dataBytes;
 */
export function readNpyHeader(path: string): NpyFileHeader {
  const fd = openSync(path, 'r');
  try {
    const fileBytes = fstatSync(fd).size;
    const read = (n: number): Uint8Array => {
      const buf = new Uint8Array(Math.min(n, fileBytes));
      let got = 0;
      while (got < buf.length) {
        const k = readSync(fd, buf, got, buf.length - got, got);
        if (k === 0) break;
        got += k;
      }
      return buf.subarray(0, got);
    };
    const lead = read(12);
    // the header length sits at bytes 8..9 (version 1) or 8..11 (versions 2 and 3)
    let need = lead.length;
    if (lead.length >= 10) {
      const view = new DataView(lead.buffer, lead.byteOffset, lead.byteLength);
      need = lead[6] === 1 ? 10 + view.getUint16(8, true) : (lead[6] === 2 || lead[6] === 3) && lead.length >= 12 ? 12 + view.getUint32(8, true) : lead.length;
    }
    const bytes = need > lead.length ? read(Math.min(need, MAX_HEADER_BYTES)) : lead;
    return { ...parseNpyHeader(bytes, path), fileBytes };
  } finally {
    closeSync(fd);
  }
}
