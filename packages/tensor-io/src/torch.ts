import { TorchFormatError } from './errors.js';
import { halfToFloat } from './half.js';
import type { HostTensor } from './host-tensor.js';
import { type ReadOptions, expansionAllowance, formatBytes, maxBytesOf } from './limits.js';
import { PickleCall, PickleError, type PickleGlobal, unpickle } from './pickle.js';
import { type ZipEntry, readZipDirectory, readZipEntry } from './zip.js';

interface StorageRef {
  kind: 'storage';
  dtype: string;
  key: string;
  numel: number;
}

/** A tensor as its pickle describes it: every field a claim until `checkView` has checked it. */
interface TensorRef {
  kind: 'tensor';
  storage: unknown;
  offset: unknown;
  size: unknown;
  stride: unknown;
}

/** A checked view: integers, inside its storage, with the number of elements it materialises. */
interface View {
  name: string;
  storage: StorageRef;
  entry: ZipEntry;
  offset: number;
  size: number[];
  stride: number[];
  count: number;
}

const BYTES: Record<string, number> = {
  FloatStorage: 4, DoubleStorage: 8, HalfStorage: 2, BFloat16Storage: 2, LongStorage: 8, IntStorage: 4, ShortStorage: 2,
  CharStorage: 1, ByteStorage: 1, BoolStorage: 1,
};

/** Float storages are returned as Float32Array; double and integer ones as Float64Array. */
const FLOAT32_OUT = new Set(['FloatStorage', 'HalfStorage', 'BFloat16Storage']);
const outBytes = (dtype: string): number => (FLOAT32_OUT.has(dtype) ? 4 : 8);

const bf16 = new DataView(new ArrayBuffer(4));
/** Element `i` of a storage's little-endian bytes, as a number. */
const GET: Record<string, (v: DataView, i: number) => number> = {
  FloatStorage: (v, i) => v.getFloat32(4 * i, true),
  DoubleStorage: (v, i) => v.getFloat64(8 * i, true),
  HalfStorage: (v, i) => halfToFloat(v.getUint16(2 * i, true)),
  BFloat16Storage: (v, i) => {
    bf16.setUint32(0, v.getUint16(2 * i, true) << 16, true);
    return bf16.getFloat32(0, true);
  },
  LongStorage: (v, i) => Number(v.getBigInt64(8 * i, true)),
  IntStorage: (v, i) => v.getInt32(4 * i, true),
  ShortStorage: (v, i) => v.getInt16(2 * i, true),
  CharStorage: (v, i) => v.getInt8(i),
  ByteStorage: (v, i) => v.getUint8(i),
  BoolStorage: (v, i) => v.getUint8(i),
};

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isTensor(v: unknown): v is TensorRef {
  return typeof v === 'object' && v !== null && (v as TensorRef).kind === 'tensor';
}

function isStorage(v: unknown): v is StorageRef {
  return typeof v === 'object' && v !== null && (v as StorageRef).kind === 'storage';
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const show = (x: unknown): string => (Array.isArray(x) ? `[${x.map(String).join(', ')}]` : String(x));

/**
 * Checks one view exactly against the storage it reads, before anything is allocated: a known
 * storage type with an entry in the archive holding whole elements, a non-negative integer
 * storage offset, non-negative integer sizes and strides (one stride per dimension), and every
 * element it reads inside the storage: offset + sum((size_i - 1) * stride_i) < storage numel
 * (a view with no elements reads nothing).
 */
function checkView(t: TensorRef, name: string, archive: TorchArchive): View {
  const { file } = archive;
  const fail = (field: string, expected: string, found?: string): never => {
    throw new TorchFormatError({ file, tensor: name, field, expected: `tensor ${name}: ${expected}`, ...(found != null ? { found } : {}) });
  };
  const st = t.storage;
  if (!isStorage(st)) return fail('storage', 'storage a persistent storage reference', typeof st);
  const elem = BYTES[st.dtype];
  if (elem == null) return fail('storage', `storage a float, integer or bool storage (${Object.keys(BYTES).join(', ')})`, st.dtype);
  const entry = archive.entries.get(`${archive.prefix}data/${st.key}`);
  if (!entry) return fail('storage', `storage entry ${archive.prefix}data/${st.key}`, 'none');
  if (entry.size % elem !== 0) return fail('storage', `storage data/${st.key} to hold whole ${st.dtype} elements`, `${entry.size} bytes`);
  const numel = entry.size / elem;
  const { offset, size, stride } = t;
  if (!isCount(offset)) return fail('storage offset', 'storage offset a non-negative integer', show(offset));
  if (!Array.isArray(size) || !size.every(isCount)) return fail('size', 'size a list of non-negative integers', show(size));
  if (!Array.isArray(stride) || stride.length !== size.length || !stride.every(isCount)) {
    return fail('stride', `stride a list of ${size.length} non-negative integers, one per dimension`, show(stride));
  }
  const count = size.reduce((a: number, n: number) => a * n, 1);
  if (count > 0) {
    let last = offset;
    for (let d = 0; d < size.length; d++) last += (size[d] - 1) * stride[d];
    if (!(last < numel)) {
      fail('size and stride', `size and stride that keep every element inside its storage of ${numel} elements (offset ${offset}, size ${show(size)}, stride ${show(stride)})`, `a last element at ${last}`);
    }
  }
  return { name, storage: st, entry, offset, size: [...(size as number[])], stride: [...(stride as number[])], count };
}

/**
 * Checks what a set of views will allocate before any storage is read: each tensor, and all of
 * them with the entries that must be inflated, fit in `maxBytes`; and the file goes beyond the
 * bytes it holds (views repeating stored elements, deflated entries inflating beyond their
 * compressed size) by at most `expansionAllowance`, so what its header claims is backed.
 */
function checkBudget(views: View[], archive: TorchArchive): void {
  const { file, maxBytes } = archive;
  let materialised = 0;
  let total = archive.inflated;
  let inflation = archive.expanded;
  let stored = 0;
  const seen = new Set<string>();
  for (const v of views) {
    const out = v.count * outBytes(v.storage.dtype);
    if (out > maxBytes) {
      throw new TorchFormatError({ file, tensor: v.name, field: 'size', expected: `tensor ${v.name}: at most ${formatBytes(maxBytes)} (the maxBytes read option)`, found: `size ${show(v.size)}: ${formatBytes(out)}` });
    }
    materialised += out;
    total += out;
    if (!seen.has(v.entry.name)) {
      seen.add(v.entry.name);
      stored += (v.entry.size / BYTES[v.storage.dtype]!) * outBytes(v.storage.dtype);
      if (v.entry.method !== 0) {
        total += v.entry.size;
        inflation += Math.max(0, v.entry.size - v.entry.compressedSize);
      }
    }
  }
  if (total > maxBytes) {
    throw new TorchFormatError({ file, expected: `tensors and inflated storages of at most ${formatBytes(maxBytes)} (the maxBytes read option)`, found: formatBytes(total) });
  }
  const allowed = expansionAllowance(archive.fileBytes);
  const repeated = Math.max(0, materialised - stored);
  if (repeated + inflation > allowed) {
    const worst = views.reduce((a, v) => (v.count > a.count ? v : a));
    throw new TorchFormatError({
      file,
      tensor: worst.name,
      field: repeated >= inflation ? 'size and stride' : 'storage',
      expected: `tensors that go beyond the bytes the file holds (views that repeat stored elements, deflated entries) by at most twice its size plus 16 MiB: ${formatBytes(allowed)}`,
      found: `${formatBytes(repeated)} repeated by views (largest: tensor ${worst.name}, size ${show(worst.size)}, stride ${show(worst.stride)}) + ${formatBytes(inflation)} inflated`,
    });
  }
}

/** A checked view materialised row-major from its storage's bytes. */
function materialise(v: View, bytes: Uint8Array): HostTensor {
  const dtype = v.storage.dtype;
  const out = outBytes(dtype) === 4 ? new Float32Array(v.count) : new Float64Array(v.count);
  let contiguous = true;
  let expect = 1;
  for (let d = v.size.length - 1; d >= 0; d--) {
    if (v.size[d]! !== 1 && v.stride[d]! !== expect) contiguous = false;
    expect *= v.size[d]!;
  }
  const elem = BYTES[dtype]!;
  if (contiguous && isLittleEndian && (dtype === 'FloatStorage' || dtype === 'DoubleStorage')) {
    new Uint8Array(out.buffer).set(bytes.subarray(v.offset * elem, (v.offset + v.count) * elem));
    return { shape: v.size, data: out };
  }
  const get = GET[dtype]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (contiguous) {
    for (let i = 0; i < v.count; i++) out[i] = get(view, v.offset + i);
    return { shape: v.size, data: out };
  }
  const idx = new Array<number>(v.size.length).fill(0);
  for (let i = 0; i < v.count; i++) {
    let at = v.offset;
    for (let d = 0; d < idx.length; d++) at += idx[d]! * v.stride[d]!;
    out[i] = get(view, at);
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < v.size[d]!) break;
      idx[d] = 0;
    }
  }
  return { shape: v.size, data: out };
}

const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model', 'net', 'module'];

/** The unpickled top-level object of a torch zip file, its entries (none inflated yet) and limits. */
interface TorchArchive {
  top: unknown;
  bytes: Uint8Array;
  file: string;
  entries: Map<string, ZipEntry>;
  prefix: string;
  maxBytes: number;
  fileBytes: number;
  /** Bytes already inflated (a deflated data.pkl), and how far beyond its compressed size. */
  inflated: number;
  expanded: number;
}

function openTorchArchive(bytes: Uint8Array, file: string, options: ReadOptions | undefined): TorchArchive {
  const maxBytes = maxBytesOf(options);
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    const legacy = bytes[0] === 0x80 ? ' (this is the legacy pre-1.6 format: re-save with torch.save(sd, path) from torch >= 1.6)' : '';
    throw new TorchFormatError({ file, expected: `a zip-format PyTorch checkpoint (torch.save, torch >= 1.6)${legacy}`, found: `first bytes ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}` });
  }
  const entries = readZipDirectory(bytes, file);
  const pkl = [...entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) throw new TorchFormatError({ file, expected: 'an <archive>/data.pkl entry', found: [...entries.keys()].slice(0, 5).join(', ') });
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const order = entries.get(`${prefix}byteorder`);
  if (order) {
    if (order.size > 64) throw new TorchFormatError({ file, expected: `a ${prefix}byteorder entry of a few bytes`, found: `${order.size} bytes` });
    const text = new TextDecoder().decode(readZipEntry(bytes, order, file, 64));
    if (text.trim() !== 'little') throw new TorchFormatError({ file, expected: 'little-endian storages (byteorder "little")', found: text });
  }
  const pklEntry = entries.get(pkl)!;
  const expanded = pklEntry.method === 0 ? 0 : Math.max(0, pklEntry.size - pklEntry.compressedSize);
  if (expanded > expansionAllowance(bytes.length)) {
    throw new TorchFormatError({ file, expected: `a ${pkl} that inflates by at most twice the file size plus 16 MiB`, found: `${pklEntry.compressedSize} bytes declaring ${formatBytes(pklEntry.size)}` });
  }
  const pickle = readZipEntry(bytes, pklEntry, file, maxBytes);
  let top: unknown;
  try {
    top = unpickle(pickle, {
      file: `${file}:${pkl}`,
      persistentLoad: (pid) => {
        const p = pid as unknown[];
        if (!Array.isArray(p) || p[0] !== 'storage') throw new TorchFormatError({ file, expected: "persistent ids ('storage', type, key, location, numel)", found: String(p?.[0]) });
        const type = p[1] as PickleGlobal;
        const dtype = type && typeof type === 'object' && 'name' in type ? type.name : String(type);
        return { kind: 'storage', dtype, key: String(p[2]), numel: Number(p[4]) } satisfies StorageRef;
      },
      reduce: (fn, args) => {
        if (fn.qualified === 'torch._utils._rebuild_tensor_v2' || fn.qualified === 'torch._utils._rebuild_tensor') {
          const [storage, offset, size, stride] = args;
          return { kind: 'tensor', storage, offset, size, stride } satisfies TensorRef;
        }
        if (fn.qualified === 'torch._utils._rebuild_parameter' || fn.qualified === 'torch._utils._rebuild_parameter_with_state') return args[0];
        return undefined;
      },
    });
  } catch (err) {
    if (err instanceof TorchFormatError) throw err;
    throw new TorchFormatError({ file, expected: 'a torch.save pickle', found: err instanceof PickleError ? err.message : String(err), cause: err });
  }
  return { top, bytes, file, entries, prefix, maxBytes, fileBytes: bytes.length, inflated: pklEntry.method === 0 ? 0 : pklEntry.size, expanded };
}

/** Checks every view and the budget, then reads each storage once and materialises the views. */
function materialiseAll(refs: Array<[string, TensorRef]>, archive: TorchArchive): Map<string, HostTensor> {
  const views = refs.map(([name, t]) => checkView(t, name, archive));
  checkBudget(views, archive);
  const storages = new Map<string, Uint8Array>();
  const out = new Map<string, HostTensor>();
  for (const v of views) {
    let data = storages.get(v.entry.name);
    if (!data) {
      data = readZipEntry(archive.bytes, v.entry, archive.file, archive.maxBytes);
      storages.set(v.entry.name, data);
    }
    out.set(v.name, materialise(v, data));
  }
  return out;
}

/**
 * Decodes a PyTorch checkpoint written by `torch.save(state_dict, path)` (the zip format of torch
 * >= 1.6: `<archive>/data.pkl` + `<archive>/data/<key>` storages) into a name -> weight map,
 * with no Python: the pickle is interpreted by a small opcode reader that executes nothing.
 * Views (offset, size, stride) are materialised row-major, float16/bfloat16 widened to float32,
 * integer tensors (BatchNorm counters) kept as numbers. A dict that wraps the state_dict under
 * `state_dict`/`model_state_dict`/`model`/`net` is unwrapped.
 *
 * Nothing is allocated on a header's word: only the storages the pickle uses are read (stored
 * ones in place, deflated ones after proving their declared size); every view is checked exactly
 * (non-negative integer offset, sizes and strides, every element inside its storage); and all
 * tensors together must fit in `options.maxBytes` (default 4 GiB) and go beyond the bytes the
 * file holds (views repeating stored elements: stride 0, shared storages; deflated entries
 * inflating beyond their compressed size) by at most twice its size plus 16 MiB. Any violation is a
 * `TorchFormatError` naming the file and, for a view, the tensor (`tensor`) and the `field`.
 *
 * @example
 * const weights = decodeTorchCheckpoint(new Uint8Array(await (await fetch('best.pth')).arrayBuffer()), 'best.pth');
 * for (const [name, { shape }] of weights) console.log(name, shape);
 */
export function decodeTorchCheckpoint(bytes: Uint8Array, file = '<buffer>', options?: ReadOptions): Map<string, HostTensor> {
  const archive = openTorchArchive(bytes, file, options);
  const { top } = archive;
  let dict = top;
  if (dict instanceof Map && ![...dict.values()].some(isTensor)) {
    const key = STATE_DICT_KEYS.find((k) => dict instanceof Map && dict.get(k) instanceof Map);
    if (key) dict = (dict as Map<string, unknown>).get(key);
  }
  if (!(dict instanceof Map)) {
    const what = top instanceof PickleCall ? `a pickled ${top.fn.qualified} object (save model.state_dict(), not the model)` : typeof top;
    throw new TorchFormatError({ file, expected: 'a state_dict (a dict of tensors)', found: what });
  }
  const refs: Array<[string, TensorRef]> = [];
  for (const [name, value] of dict as Map<unknown, unknown>) {
    if (typeof name === 'string' && isTensor(value)) refs.push([name, value]);
  }
  if (refs.length === 0) throw new TorchFormatError({ file, expected: 'at least one tensor in the state_dict', found: `keys ${[...(dict as Map<unknown, unknown>).keys()].slice(0, 5).join(', ')}` });
  return materialiseAll(refs, archive);
}

/**
 * Decodes a single tensor written by `torch.save(tensor, path)` (the authors' demo tokens are
 * saved this way), materialised row-major as float32/float64 with its shape. It is checked as
 * `decodeTorchCheckpoint` checks each tensor; errors name it `<tensor>`.
 *
 * @example
 * const { shape, data } = decodeTorchTensor(encodeTorchSave({ shape: [2, 3], data: [1, 2, 3, 4, 5, 6] })); // shape [2, 3]
 */
export function decodeTorchTensor(bytes: Uint8Array, file = '<buffer>', options?: ReadOptions): HostTensor {
  const archive = openTorchArchive(bytes, file, options);
  const { top } = archive;
  if (!isTensor(top)) {
    const what = top instanceof Map ? 'a dict (use decodeTorchCheckpoint or readTorchCheckpoint for a state_dict)' : top instanceof PickleCall ? `a pickled ${top.fn.qualified} object` : typeof top;
    throw new TorchFormatError({ file, expected: 'one tensor saved with torch.save(tensor, path)', found: what });
  }
  return materialiseAll([['<tensor>', top]], archive).get('<tensor>')!;
}
