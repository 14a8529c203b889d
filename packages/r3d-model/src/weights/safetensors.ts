import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WeightImportError } from '../errors.js';
import type { HostTensor } from '../r3d.js';

const DTYPES = { F32: 4, F64: 8, I32: 4, I64: 8, F16: 2 } as const;

/**
 * Encodes float32 weights as safetensors: an 8-byte little-endian header length, a JSON header
 * (`{name: {dtype, shape, data_offsets}}`, `__metadata__` strings, padded with spaces to 8
 * bytes), then the raw little-endian data in header order.
 *
 * @example
 * writeFileSync('w.safetensors', encodeSafetensors(new Map([['fc.bias', { shape: [3], data: [1, 2, 3] }]])));
 */
export function encodeSafetensors(tensors: Map<string, HostTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = [...tensors.keys()];
  for (const name of names) {
    const t = tensors.get(name)!;
    const size = t.shape.reduce((a, n) => a * n, 1);
    if (size !== t.data.length) throw new WeightImportError({ file: name, expected: `${size} values for shape [${t.shape.join(', ')}]`, found: t.data.length });
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * size] };
    offset += 4 * size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const t = tensors.get(name)!;
    for (let i = 0; i < t.data.length; i++, at += 4) view.setFloat32(at, t.data[i]!, true);
  }
  return out;
}

/** A decoded safetensors file: weights (as float32, or float64 for F64/I64) and its metadata. */
export interface SafetensorsContent {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
}

/**
 * Decodes a safetensors image (F32, F64, F16, I32, I64), checking that the header parses, every
 * entry's offsets lie inside the data and match its shape, so a truncated file is an error
 * naming the file and the entry.
 *
 * @example
 * const { tensors } = decodeSafetensors(readFileSync('weights.safetensors'), 'weights.safetensors');
 */
export function decodeSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsContent {
  if (bytes.length < 8) throw new WeightImportError({ file, expected: 'a safetensors file of at least 8 bytes', found: `${bytes.length} bytes` });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLen = Number(view.getBigUint64(0, true));
  if (8 + headLen > bytes.length) throw new WeightImportError({ file, expected: `a ${headLen}-byte JSON header inside the file`, found: `${bytes.length - 8} bytes` });
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headLen)));
  } catch (cause) {
    throw new WeightImportError({ file, expected: 'a JSON header', cause });
  }
  const data = bytes.subarray(8 + headLen);
  const dataView = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tensors = new Map<string, HostTensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const width = DTYPES[e.dtype as keyof typeof DTYPES];
    if (width == null) throw new WeightImportError({ file, expected: `entry ${name} of dtype ${Object.keys(DTYPES).join(' | ')}`, found: e.dtype });
    const count = e.shape.reduce((a, n) => a * n, 1);
    const [begin, end] = e.data_offsets ?? [];
    if (!(Number.isInteger(begin) && Number.isInteger(end) && end! - begin! === count * width && end! <= data.length)) {
      throw new WeightImportError({ file, expected: `entry ${name}: ${count * width} bytes inside the data (offsets ${begin}..${end}, data ${data.length} bytes)` });
    }
    const out = e.dtype === 'F64' || e.dtype === 'I64' ? new Float64Array(count) : new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const at = begin! + i * width;
      out[i] =
        e.dtype === 'F32' ? dataView.getFloat32(at, true)
        : e.dtype === 'F64' ? dataView.getFloat64(at, true)
        : e.dtype === 'I32' ? dataView.getInt32(at, true)
        : e.dtype === 'I64' ? Number(dataView.getBigInt64(at, true))
        : halfBits(dataView.getUint16(at, true));
    }
    tensors.set(name, { shape: [...e.shape], data: out });
  }
  return { tensors, metadata: (header.__metadata__ as Record<string, string>) ?? {} };
}

function halfBits(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Writes `bytes` to `path` through a temp file in the same folder, fsync and rename. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    if (existsSync(tmp)) rmSync(tmp, { force: true });
    throw err;
  }
}

/** Reads a `.safetensors` file. */
export function readSafetensors(path: string): SafetensorsContent {
  if (!existsSync(path) || !statSync(path).isFile()) throw new WeightImportError({ file: path, expected: 'a .safetensors file', found: 'none' });
  return decodeSafetensors(readFileSync(path), path);
}
