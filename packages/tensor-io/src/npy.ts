import { NpyFormatError } from './errors.js';
import { type ReadOptions, formatBytes, maxBytesOf } from './limits.js';

/** Element types this reader understands (little-endian, or single-byte). */
export type NpyDtype = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'bool';

export type NpyData = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array;

/** An n-dimensional array read from or written to `.npy`: flat row-major data plus its shape. */
export interface NpyArray<D extends NpyData = NpyData> {
  dtype: NpyDtype;
  shape: number[];
  data: D;
}

const DESCR: Record<string, NpyDtype> = {
  '<f4': 'float32', '<f8': 'float64', '|i1': 'int8', '|u1': 'uint8', '<i2': 'int16', '<u2': 'uint16',
  '<i4': 'int32', '<u4': 'uint32', '<i8': 'int64', '|b1': 'bool',
};
/** An array to encode: `dtype` defaults to the one of `data`'s typed array. */
export interface NpyInput {
  shape: readonly number[];
  data: NpyData;
  dtype?: NpyDtype;
}

const BYTES: Record<NpyDtype, number> = {
  float32: 4, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, bool: 1,
};
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** What a `.npy` header says: element type, shape, and where the data starts and how long it is. */
export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset of the first element (magic, version, length fields and header dict before it). */
  dataOffset: number;
  /** Bytes the shape and dtype need after `dataOffset`. */
  dataBytes: number;
}

/**
 * Parses the header of a `.npy` file image (format versions 1.0, 2.0 and 3.0) without touching
 * the data: `bytes` needs to hold only the magic string, the length fields and the header dict.
 * It throws the same `NpyFormatError`s as `parseNpy` for a bad magic string, version, header or
 * dtype; whether the data is all there is the caller's question (`dataOffset + dataBytes`
 * against the file size). `readNpyHeader` of `./node` reads just these bytes from disk.
 *
 * @example
 * const { shape, dtype } = parseNpyHeader(firstBytes, 'video1.npy'); // [T, 2048], 'float32'
 */
export function parseNpyHeader(bytes: Uint8Array, file = '<buffer>'): NpyHeader {
  const fail = (offset: number, expected: string, found?: string): never => {
    throw new NpyFormatError({ file, offset, expected, ...(found != null ? { found } : {}) });
  };
  if (bytes.length < 10) fail(0, 'a .npy file of at least 10 bytes', `${bytes.length} bytes`);
  for (let i = 0; i < 6; i++) if (bytes[i] !== MAGIC[i]) fail(i, 'the magic string \\x93NUMPY');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(8, 'a 4-byte header length (format 2.0/3.0)');
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    return fail(6, 'format version 1, 2 or 3', String(major));
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) fail(8, `a header of ${headerLen} bytes inside the file`, `${bytes.length - headerStart} bytes left`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr == null) return fail(headerStart, "a header dict with 'descr'", header);
  if (fortran == null) return fail(headerStart, "a header dict with 'fortran_order': True or False", header);
  if (shapeText == null) return fail(headerStart, "a header dict with 'shape': a tuple", header);
  if (fortran === 'True') fail(headerStart, "'fortran_order': False (C order; save with np.ascontiguousarray)", 'True');
  const normalised = descr.replace(/^=/, '<').replace(/^\|(?=[fiu][248])/, '<');
  const dtype = DESCR[normalised] ?? DESCR[descr.replace(/^[<|]/, '|')];
  if (dtype == null) {
    const hint = descr.startsWith('>') ? ' (big-endian: convert with arr.astype(arr.dtype.newbyteorder("<")))' : '';
    return fail(headerStart, `a little-endian numeric dtype (<f4, <f8, <i1..<i8, <u1..<u4, |b1)${hint}`, descr);
  }
  const shape: number[] = [];
  for (const part of shapeText.split(',')) {
    const t = part.trim();
    if (t === '') continue;
    const dim = /^\d+L?$/.test(t) ? Number.parseInt(t, 10) : Number.NaN;
    if (!Number.isSafeInteger(dim)) return fail(headerStart, 'non-negative integer dimensions (below 2^53) in shape', shapeText);
    shape.push(dim);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  return { dtype, shape, dataOffset: dataStart, dataBytes: count * BYTES[dtype] };
}

/**
 * Parses a `.npy` file image (format versions 1.0, 2.0 and 3.0). Big-endian and Fortran-order
 * arrays are rejected with an `NpyFormatError` naming the header field, since silently
 * reinterpreting them would give wrong numbers. The bytes the header's shape needs are checked
 * against the bytes present and against `options.maxBytes` (default 4 GiB) before the array is
 * allocated.
 *
 * @example
 * const { shape, data } = parseNpy(new Uint8Array(await (await fetch('video1.npy')).arrayBuffer()), 'video1.npy');
 * // shape [T, 2048], data Float32Array
 */
export function parseNpy(bytes: Uint8Array, file = '<buffer>', options?: ReadOptions): NpyArray {
  const maxBytes = maxBytesOf(options);
  const fail = (offset: number, expected: string, found?: string): never => {
    throw new NpyFormatError({ file, offset, expected, ...(found != null ? { found } : {}) });
  };
  const { dtype, shape, dataOffset: dataStart, dataBytes: need } = parseNpyHeader(bytes, file);
  if (bytes.length - dataStart < need) {
    fail(dataStart, `${need} bytes of data for shape (${shape.join(', ')}) ${dtype}`, `${bytes.length - dataStart} bytes`);
  }
  if (need > maxBytes) fail(dataStart, `an array of at most ${formatBytes(maxBytes)} (the maxBytes read option)`, `shape (${shape.join(', ')}) ${dtype}: ${formatBytes(need)}`);
  // Copy into a fresh, aligned buffer: the header length need not keep the data aligned.
  // (Buffer.slice would share memory; a fresh Uint8Array copy does not.)
  const raw = new Uint8Array(need);
  raw.set(bytes.subarray(dataStart, dataStart + need));
  return { dtype, shape, data: typedArray(dtype, raw.buffer) };
}

function typedArray(dtype: NpyDtype, buf: ArrayBuffer): NpyData {
  switch (dtype) {
    case 'float32': return new Float32Array(buf);
    case 'float64': return new Float64Array(buf);
    case 'int8': return new Int8Array(buf);
    case 'uint8': case 'bool': return new Uint8Array(buf);
    case 'int16': return new Int16Array(buf);
    case 'uint16': return new Uint16Array(buf);
    case 'int32': return new Int32Array(buf);
    case 'uint32': return new Uint32Array(buf);
    case 'int64': return new BigInt64Array(buf);
  }
}

function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  return 'int64';
}

/**
 * Encodes an array as a `.npy` 1.0 file image (2.0 when the header needs more than 65535
 * bytes), C order, little-endian, readable by `numpy.load`.
 *
 * @example
 * const bytes = encodeNpy({ shape: [2, 3], data: new Float32Array(6) });
 */
export function encodeNpy(array: NpyInput): Uint8Array {
  const dtype = array.dtype ?? dtypeOf(array.data);
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) {
    throw new RangeError(`encodeNpy: shape (${array.shape.join(', ')}) holds ${count} values, data has ${array.data.length}`);
  }
  const descr = Object.entries(DESCR).find(([, v]) => v === dtype)![0];
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const v2 = dict.length + 11 > 65535;
  const pre = v2 ? 12 : 10;
  const pad = (64 - ((pre + dict.length + 1) % 64)) % 64;
  dict = dict + ' '.repeat(pad) + '\n';
  const header = new TextEncoder().encode(dict);
  const body = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(pre + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = v2 ? 2 : 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (v2) view.setUint32(8, header.length, true);
  else view.setUint16(8, header.length, true);
  out.set(header, pre);
  out.set(body, pre + header.length);
  return out;
}
