import { SafetensorsFormatError } from './errors.js';
import { halfToFloat } from './half.js';
import { type ReadOptions, formatBytes, maxBytesOf } from './limits.js';

/** Element types an entry holds and the encoder writes (safetensors names). */
export type SafetensorsDtype = 'F32' | 'F64' | 'I32' | 'U8';

/** One decoded array: row-major, its dtype and the matching typed array. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

/**
 * One array to encode. Without `dtype` it is written as F32 (so a `HostTensor` encodes as is);
 * data that is not already the dtype's typed array is converted.
 */
export interface SafetensorsInput {
  dtype?: SafetensorsDtype;
  shape: readonly number[];
  data: ArrayLike<number>;
}

/** A decoded safetensors file: its arrays by name and its `__metadata__` strings. */
export interface SafetensorsContent {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

const WRITE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F64: 8, I32: 4, U8: 1 };
/** Read-only dtypes are widened: F16 to F32, I64 to F64 (exact up to 2^53). */
const READ_BYTES = { ...WRITE_BYTES, F16: 2, I64: 8 } as const;
type ReadDtype = keyof typeof READ_BYTES;
/** Headers beyond this are refused before parsing (as the reference implementation does). */
const MAX_HEADER = 100_000_000;

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Encodes named arrays as safetensors: an 8-byte little-endian header length, a JSON header
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {...}}`, space-padded so
 * the data starts at a multiple of 8), then the raw little-endian data of each array in order of
 * name, so the bytes do not depend on the order the arrays were collected in. Entries keep their
 * dtype (F32, F64, I32, U8); entries without one are F32.
 *
 * @example
 * const bytes = encodeSafetensors(new Map([['fc.bias', { shape: [3], data: [1, 2, 3] }]]), { format: 'demo' });
 * const same = encodeSafetensors({ step: { dtype: 'I32', shape: [], data: new Int32Array([7]) } });
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, SafetensorsInput> | Readonly<Record<string, SafetensorsInput>>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const items: Array<[string, SafetensorsInput]> =
    tensors instanceof Map ? [...(tensors as ReadonlyMap<string, SafetensorsInput>).entries()] : Object.entries(tensors as Record<string, SafetensorsInput>);
  items.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const arrays: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of items) {
    const dtype = t.dtype ?? 'F32';
    if (!(dtype in WRITE_BYTES)) throw new SafetensorsFormatError(name, `a dtype in ${Object.keys(WRITE_BYTES).join('/')}`, String(dtype));
    const count = t.shape.reduce((a, n) => a * n, 1);
    if (count !== t.data.length) throw new SafetensorsFormatError(name, `${count} values for shape [${t.shape.join(', ')}]`, String(t.data.length));
    const typed = typedArray(dtype, t.data);
    arrays.push(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength));
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + typed.byteLength] };
    offset += typed.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // space padding, so the data starts at a multiple of 8
  const head = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20);
  head.set(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  items.forEach(([, t], i) => {
    const raw = arrays[i]!;
    out.set(raw, at);
    if (!isLittleEndian) swapBytes(out.subarray(at, at + raw.length), WRITE_BYTES[t.dtype ?? 'F32']);
    at += raw.length;
  });
  return out;
}

/**
 * Decodes a safetensors image, checking every structural promise of the format: the header
 * length lies inside the file, the header is a JSON object, dtypes are known (F32, F64, I32, U8;
 * F16 and I64 are read and widened to F32 and F64), shapes are lists of non-negative integers, the
 * entries' offsets are contiguous and match their shapes, and no byte is missing or left over.
 * Any violation is a `SafetensorsFormatError` naming `file`. The arrays are copies, independent of
 * `bytes`; each is checked against the bytes present and, with those before it, against
 * `options.maxBytes` (default 4 GiB) before it is allocated.
 *
 * @example
 * const { tensors, metadata } = decodeSafetensors(encodeSafetensors({ step: { dtype: 'I32', shape: [], data: [7] } }));
 */
export function decodeSafetensors(bytes: Uint8Array, file = '<buffer>', options?: ReadOptions): SafetensorsContent {
  const maxBytes = maxBytesOf(options);
  if (bytes.byteLength < 8) throw new SafetensorsFormatError(file, 'a safetensors file (at least 8 bytes of header length)', `${bytes.byteLength} bytes: truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > bytes.byteLength) {
    throw new SafetensorsFormatError(file, `a header of at most ${bytes.byteLength - 8} bytes`, `a declared header of ${headerLen} bytes: truncated or not a safetensors file`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (err) {
    throw new SafetensorsFormatError(file, 'a JSON header', 'unparsable JSON: corrupted', err);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsFormatError(file, 'a JSON object header', header === null ? 'null' : Array.isArray(header) ? 'array' : typeof header);
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const entries = Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .map(([name, raw]) => ({ name, info: (raw ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } }));
  entries.sort((a, b) => offsetsOf(a.info)[0] - offsetsOf(b.info)[0]);
  const tensors = new Map<string, SafetensorsEntry>();
  let expectedStart = 0;
  let decoded = 0;
  for (const { name, info } of entries) {
    const dtype = info.dtype as ReadDtype;
    if (typeof dtype !== 'string' || !Object.hasOwn(READ_BYTES, dtype)) {
      throw new SafetensorsFormatError(file, `dtype of entry ${name} in ${Object.keys(READ_BYTES).join('/')}`, String(info.dtype));
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsFormatError(file, `shape of entry ${name} as a list of non-negative integers`, JSON.stringify(shape));
    }
    const [begin, end] = offsetsOf(info);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const size = count * READ_BYTES[dtype];
    if (begin !== expectedStart || end - begin !== size) {
      throw new SafetensorsFormatError(file, `data_offsets of entry ${name} = [${expectedStart}, ${expectedStart + size}]`, JSON.stringify(info.data_offsets));
    }
    if (end > dataLen) throw new SafetensorsFormatError(file, `the data of entry ${name} to end at byte ${end} of the data section`, `a data section of ${dataLen} bytes: truncated`);
    expectedStart = end;
    // F16 is widened to F32: twice its bytes once decoded
    decoded += dtype === 'F16' ? 2 * size : size;
    if (decoded > maxBytes) throw new SafetensorsFormatError(file, `arrays of at most ${formatBytes(maxBytes)} in all (the maxBytes read option)`, `${formatBytes(decoded)} by entry ${name}`);
    tensors.set(name, readEntry(bytes.subarray(dataStart + begin, dataStart + end), dtype, [...(shape as number[])], count));
  }
  if (expectedStart !== dataLen) throw new SafetensorsFormatError(file, `${expectedStart} bytes of tensor data`, `${dataLen} bytes: trailing garbage`);
  return { tensors, metadata };
}

function typedArray(dtype: SafetensorsDtype, data: ArrayLike<number>): SafetensorsEntry['data'] {
  switch (dtype) {
    case 'F32': return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'F64': return data instanceof Float64Array ? data : Float64Array.from(data);
    case 'I32': return data instanceof Int32Array ? data : Int32Array.from(data);
    case 'U8': return data instanceof Uint8Array ? data : Uint8Array.from(data);
  }
}

function offsetsOf(info: { data_offsets?: unknown }): [number, number] {
  const o = info.data_offsets;
  if (Array.isArray(o) && o.length === 2 && o.every((x) => Number.isInteger(x) && x >= 0) && o[1] >= o[0]) return [o[0], o[1]];
  return [Number.NaN, Number.NaN];
}

function readEntry(raw: Uint8Array, dtype: ReadDtype, shape: number[], count: number): SafetensorsEntry {
  if (dtype === 'F16' || dtype === 'I64') {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = dtype === 'F16' ? new Float32Array(count) : new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = dtype === 'F16' ? halfToFloat(view.getUint16(2 * i, true)) : Number(view.getBigInt64(8 * i, true));
    return { dtype: dtype === 'F16' ? 'F32' : 'F64', shape, data: out };
  }
  // a copy: aligned for the typed array, and independent of the file buffer (a Node Buffer is
  // often a view into a shared pool)
  const copy = Uint8Array.from(raw);
  if (!isLittleEndian) swapBytes(copy, READ_BYTES[dtype]);
  switch (dtype) {
    case 'F32': return { dtype, shape, data: new Float32Array(copy.buffer, 0, count) };
    case 'F64': return { dtype, shape, data: new Float64Array(copy.buffer, 0, count) };
    case 'I32': return { dtype, shape, data: new Int32Array(copy.buffer, 0, count) };
    case 'U8': return { dtype, shape, data: copy };
  }
}

function swapBytes(bytes: Uint8Array, width: number): void {
  if (width > 1) for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

