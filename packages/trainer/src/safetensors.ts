import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';
import { CheckpointError } from './errors.js';

/** Element types this reader/writer handles (safetensors names). */
export type SafetensorsDtype = 'F32' | 'F64' | 'I32' | 'U8';

/** One named array: row-major, little-endian on disk. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

export interface SafetensorsFile {
  tensors: Record<string, SafetensorsEntry>;
  /** The optional `__metadata__` string map of the header. */
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F64: 8, I32: 4, U8: 1 };
const MAX_HEADER = 100_000_000;

/**
 * Encodes named arrays as a safetensors buffer: 8-byte little-endian header length, a JSON header
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {...}}`, space-padded to
 * a multiple of 8 bytes), then the raw little-endian data of each array in header order.
 *
 * @example
 * const bytes = encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
 */
export function encodeSafetensors(tensors: Record<string, SafetensorsEntry>, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`encodeSafetensors: ${name} has shape [${t.shape}] (${count} values) but ${t.data.length} values`);
    const bytes = count * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors[name];
    const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (isLittleEndian) out.set(raw, at);
    else writeSwapped(out, at, t);
    at += raw.byteLength;
  }
  return out;
}

/**
 * Parses a safetensors buffer, checking every structural promise of the format (header length
 * inside the file, valid JSON, known dtypes, offsets contiguous and matching each shape, no
 * trailing or missing bytes); any violation is a `CheckpointError` naming `file`.
 *
 * @example
 * const { tensors } = decodeSafetensors(readFileSync('weights.safetensors'), 'weights.safetensors');
 */
export function decodeSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsFile {
  if (bytes.byteLength < 8) throw new CheckpointError(file, 'a safetensors file (at least 8 bytes of header length)', `${bytes.byteLength} bytes: truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > bytes.byteLength) {
    throw new CheckpointError(file, `a header of at most ${bytes.byteLength - 8} bytes`, `a declared header of ${headerLen} bytes: truncated or not a safetensors file`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLen).toString('utf8'));
  } catch (err) {
    throw new CheckpointError(file, 'a JSON header', 'unparsable JSON: corrupted', err);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new CheckpointError(file, 'a JSON object header', typeof header);
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const entries = Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .map(([name, raw]) => ({ name, info: raw as { dtype?: string; shape?: unknown; data_offsets?: unknown } }));
  entries.sort((a, b) => offsetsOf(a.info)[0] - offsetsOf(b.info)[0]);
  const tensors: Record<string, SafetensorsEntry> = {};
  let expectedStart = 0;
  for (const { name, info } of entries) {
    const dtype = info.dtype as SafetensorsDtype;
    if (!(dtype in BYTES)) throw new CheckpointError(file, `dtype of ${name} in ${Object.keys(BYTES).join('/')}`, String(info.dtype));
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new CheckpointError(file, `shape of ${name} as a list of non-negative integers`, JSON.stringify(shape));
    const [begin, end] = offsetsOf(info);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (begin !== expectedStart || end - begin !== count * BYTES[dtype]) {
      throw new CheckpointError(file, `data_offsets of ${name} = [${expectedStart}, ${expectedStart + count * BYTES[dtype]}]`, JSON.stringify(info.data_offsets));
    }
    if (end > dataLen) throw new CheckpointError(file, `the data of ${name} to end at byte ${end} of the data section`, `a data section of ${dataLen} bytes: truncated`);
    expectedStart = end;
    tensors[name] = { dtype, shape: shape as number[], data: readTyped(bytes, dataStart + begin, count, dtype) };
  }
  if (expectedStart !== dataLen) throw new CheckpointError(file, `${expectedStart} bytes of tensor data`, `${dataLen} bytes: trailing garbage`);
  return { tensors, metadata };
}

/** Reads and decodes a safetensors file; every failure is a `CheckpointError` naming the path. */
export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CheckpointError(path, 'a readable safetensors file', (err as Error).message, err);
  }
  return decodeSafetensors(bytes, path);
}

/** Encodes and writes atomically (temporary file + rename). */
export function writeSafetensors(path: string, tensors: Record<string, SafetensorsEntry>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function offsetsOf(info: { data_offsets?: unknown }): [number, number] {
  const o = info.data_offsets;
  if (Array.isArray(o) && o.length === 2 && o.every((x) => Number.isInteger(x) && x >= 0) && o[1] >= o[0]) return [o[0], o[1]];
  return [Number.NaN, Number.NaN];
}

function readTyped(bytes: Uint8Array, at: number, count: number, dtype: SafetensorsDtype): SafetensorsEntry['data'] {
  const size = BYTES[dtype];
  // copy so the result is aligned and independent of the file buffer
  // (a Node Buffer's slice is a view into its pool, so copy explicitly)
  const copy = new Uint8Array(count * size);
  copy.set(bytes.subarray(at, at + count * size));
  if (!isLittleEndian && size > 1) for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  switch (dtype) {
    case 'F32': return new Float32Array(copy.buffer, 0, count);
    case 'F64': return new Float64Array(copy.buffer, 0, count);
    case 'I32': return new Int32Array(copy.buffer, 0, count);
    case 'U8': return copy;
  }
}

function writeSwapped(out: Uint8Array, at: number, t: SafetensorsEntry): void {
  const size = BYTES[t.dtype];
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  for (let i = 0; i < raw.length; i += size) for (let b = 0; b < size; b++) out[at + i + b] = raw[i + size - 1 - b];
}
