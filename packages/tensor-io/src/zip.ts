import { Inflate, inflateSync } from 'fflate';
import { TorchFormatError } from './errors.js';
import { formatBytes } from './limits.js';

/** One entry of a zip's central directory: where its data is and the sizes it declares. */
export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  /** The declared uncompressed size: a claim until the data is read. */
  size: number;
  localOffset: number;
}

/** Deflate's best ratio is 1032:1 (258-byte matches coded in 2 bits); a larger claim is a lie. */
const MAX_DEFLATE_RATIO = 1032;
/** Compressed bytes per push while counting: at most ~4 MiB of output held at a time. */
const COUNT_CHUNK = 4096;

/**
 * Reads the central directory of the zip container `torch.save` writes (zip64 included) without
 * inflating anything: every entry's name, method and declared sizes, for `readZipEntry` to read on
 * demand. A file that is not such a zip is a `TorchFormatError` naming `file`.
 *
 * @example
 * const entries = readZipDirectory(bytes, 'best.pth'); // Map { 'archive/data.pkl' => { size, ... }, ... }
 */
export function readZipDirectory(bytes: Uint8Array, file: string): Map<string, ZipEntry> {
  const fail = (expected: string, found?: string): never => {
    throw new TorchFormatError({ file, expected, ...(found != null ? { found } : {}) });
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number): number => {
    const v = view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('zip sizes and offsets below 2^53', String(v));
    return Number(v);
  };
  let eocd = -1;
  for (let at = bytes.length - 22; at >= 0 && at >= bytes.length - 22 - 65535; at--) {
    if (view.getUint32(at, true) === 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) return fail('a readable zip archive (an end of central directory record)', `${bytes.length} bytes without one: truncated or not a zip`);
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || view.getUint32(locator, true) !== 0x07064b50) fail('a zip64 end of central directory locator before the end record');
    const z = u64(locator + 8);
    if (z + 56 > bytes.length || view.getUint32(z, true) !== 0x06064b50) fail('a zip64 end of central directory record inside the file', `offset ${z}`);
    count = u64(z + 32);
    cdSize = u64(z + 40);
    cdOffset = u64(z + 48);
  }
  if (cdOffset + cdSize > bytes.length) fail(`a central directory inside the file of ${bytes.length} bytes`, `${cdSize} bytes at byte ${cdOffset}`);
  // every directory record takes at least 46 bytes, so a count the directory cannot hold is a lie
  if (count * 46 > cdSize) fail(`at most ${Math.floor(cdSize / 46)} entries in a central directory of ${cdSize} bytes`, String(count));
  const entries = new Map<string, ZipEntry>();
  const utf8 = new TextDecoder();
  let at = cdOffset;
  const end = cdOffset + cdSize;
  for (let i = 0; i < count; i++) {
    if (at + 46 > end || view.getUint32(at, true) !== 0x02014b50) fail(`central directory record ${i} of ${count} at byte ${at}`, 'none');
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    if (at + 46 + nameLen + extraLen + commentLen > end) fail(`central directory record ${i} inside the directory`, 'a record running past its end');
    const entry: ZipEntry = {
      name: utf8.decode(bytes.subarray(at + 46, at + 46 + nameLen)),
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
    };
    // zip64 extra field: the 64-bit values of the fields set to 0xffffffff, in this order
    for (let x = at + 46 + nameLen; x + 4 <= at + 46 + nameLen + extraLen; ) {
      const id = view.getUint16(x, true);
      const len = view.getUint16(x + 2, true);
      if (id === 0x0001) {
        let y = x + 4;
        const next = (): number => {
          if (y + 8 > x + 4 + len) fail(`a complete zip64 extra field for entry ${entry.name}`);
          const v = u64(y);
          y += 8;
          return v;
        };
        if (entry.size === 0xffffffff) entry.size = next();
        if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
        if (entry.localOffset === 0xffffffff) entry.localOffset = next();
      }
      x += 4 + len;
    }
    entries.set(entry.name, entry);
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/**
 * The data of one entry, checked before anything is allocated: it must lie inside the file; a
 * stored entry is returned as a view of `bytes` (no copy); a deflated one must declare at most
 * `maxBytes` and no more than deflate can produce from its compressed bytes, and is inflated
 * twice: once counting its output in small pieces, to prove the declared size is what the data
 * holds, then into a buffer of exactly that size.
 *
 * @example
 * const pickle = readZipEntry(bytes, entries.get('archive/data.pkl')!, 'best.pth', 2 ** 30);
 */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, file: string, maxBytes: number): Uint8Array {
  const fail = (expected: string, found?: string): never => {
    throw new TorchFormatError({ file, expected: `zip entry ${entry.name}: ${expected}`, ...(found != null ? { found } : {}) });
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const local = entry.localOffset;
  if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) fail(`a local header at byte ${local}`, 'none');
  const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  if (start + entry.compressedSize > bytes.length) {
    fail(`its ${entry.compressedSize} bytes of data inside the file of ${bytes.length} bytes`, `data from byte ${start}: truncated`);
  }
  if (entry.flags & 1) fail('an unencrypted entry', 'an encrypted one');
  const data = bytes.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) {
    if (entry.size !== entry.compressedSize) fail(`a stored entry of ${entry.compressedSize} bytes to declare that size`, String(entry.size));
    return data;
  }
  if (entry.method !== 8) fail('a stored (0) or deflated (8) entry', `method ${entry.method}`);
  if (entry.size > maxBytes) fail(`at most ${formatBytes(maxBytes)} once inflated (the maxBytes read option)`, `a declared ${formatBytes(entry.size)}`);
  if (entry.size > entry.compressedSize * MAX_DEFLATE_RATIO + 64) {
    fail(`at most ${MAX_DEFLATE_RATIO}x its ${entry.compressedSize} compressed bytes once inflated (deflate's limit)`, `a declared ${formatBytes(entry.size)}`);
  }
  let produced = 0;
  const TOO_MANY = Symbol('too many');
  const counter = new Inflate((chunk) => {
    produced += chunk.length;
    if (produced > entry.size) throw TOO_MANY;
  });
  try {
    let at = 0;
    do {
      const end = Math.min(at + COUNT_CHUNK, data.length);
      counter.push(data.subarray(at, end), end === data.length);
      at = end;
    } while (at < data.length);
  } catch (err) {
    if (err === TOO_MANY) fail(`to inflate to its declared ${entry.size} bytes`, 'more');
    fail('a complete deflate stream', err instanceof Error ? err.message : String(err));
  }
  if (produced !== entry.size) fail(`to inflate to its declared ${entry.size} bytes`, `${produced} bytes`);
  return inflateSync(data, { out: new Uint8Array(entry.size) });
}
