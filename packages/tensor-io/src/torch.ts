import { unzipSync } from 'fflate';
import { TorchFormatError } from './errors.js';
import { halfToFloat } from './half.js';
import type { HostTensor } from './host-tensor.js';
import { PickleCall, PickleError, type PickleGlobal, unpickle } from './pickle.js';

interface StorageRef {
  kind: 'storage';
  dtype: string;
  key: string;
  numel: number;
}

interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  size: number[];
  stride: number[];
}

const BYTES: Record<string, number> = {
  FloatStorage: 4, DoubleStorage: 8, HalfStorage: 2, BFloat16Storage: 2, LongStorage: 8, IntStorage: 4, ShortStorage: 2,
  CharStorage: 1, ByteStorage: 1, BoolStorage: 1,
};

function isTensor(v: unknown): v is TensorRef {
  return typeof v === 'object' && v !== null && (v as TensorRef).kind === 'tensor';
}

// One storage's elements as numbers (float types as Float32Array, the rest as Float64Array).
function storageValues(bytes: Uint8Array, dtype: string, file: string, key: string): Float32Array | Float64Array {
  const size = BYTES[dtype];
  if (size == null) throw new TorchFormatError({ file, expected: `a float, integer or bool storage (${Object.keys(BYTES).join(', ')})`, found: dtype });
  if (bytes.length % size !== 0) throw new TorchFormatError({ file, expected: `storage data/${key} to hold whole ${dtype} elements`, found: `${bytes.length} bytes` });
  const n = bytes.length / size;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'FloatStorage': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case 'DoubleStorage': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case 'HalfStorage':
      return Float32Array.from({ length: n }, (_, i) => halfToFloat(view.getUint16(2 * i, true)));
    case 'BFloat16Storage': {
      const out = new Float32Array(n);
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        tmp.setUint32(0, view.getUint16(2 * i, true) << 16, true);
        out[i] = tmp.getFloat32(0, true);
      }
      return out;
    }
    case 'LongStorage':
      return Float64Array.from({ length: n }, (_, i) => Number(view.getBigInt64(8 * i, true)));
    case 'IntStorage':
      return Float64Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
    case 'ShortStorage':
      return Float64Array.from({ length: n }, (_, i) => view.getInt16(2 * i, true));
    case 'CharStorage':
      return Float64Array.from({ length: n }, (_, i) => view.getInt8(i));
    default:
      return Float64Array.from(bytes);
  }
}

// A tensor view (offset, size, stride) of its storage, materialised row-major.
function materialise(t: TensorRef, values: Float32Array | Float64Array, file: string, name: string): HostTensor {
  const count = t.size.reduce((a, n) => a * n, 1);
  let contiguous = true;
  let expect = 1;
  for (let d = t.size.length - 1; d >= 0; d--) {
    if (t.size[d]! !== 1 && t.stride[d]! !== expect) contiguous = false;
    expect *= t.size[d]!;
  }
  let last = t.offset;
  for (let d = 0; d < t.size.length; d++) if (t.size[d]! > 0) last += (t.size[d]! - 1) * t.stride[d]!;
  if (count > 0 && (t.offset < 0 || last >= values.length)) {
    throw new TorchFormatError({ file, expected: `tensor ${name} (offset ${t.offset}, size [${t.size}], stride [${t.stride}]) inside its storage of ${values.length} elements` });
  }
  if (contiguous) return { shape: [...t.size], data: values.slice(t.offset, t.offset + count) };
  const out = new (values.constructor as Float32ArrayConstructor)(count);
  const idx = new Array<number>(t.size.length).fill(0);
  for (let i = 0; i < count; i++) {
    let at = t.offset;
    for (let d = 0; d < idx.length; d++) at += idx[d]! * t.stride[d]!;
    out[i] = values[at]!;
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < t.size[d]!) break;
      idx[d] = 0;
    }
  }
  return { shape: [...t.size], data: out };
}

const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model', 'net', 'module'];

/** The unpickled top-level object of a torch zip file and a reader of its storages. */
interface TorchArchive {
  top: unknown;
  storage: (ref: StorageRef) => Float32Array | Float64Array;
}

function openTorchArchive(bytes: Uint8Array, file: string): TorchArchive {
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    const legacy = bytes[0] === 0x80 ? ' (this is the legacy pre-1.6 format: re-save with torch.save(sd, path) from torch >= 1.6)' : '';
    throw new TorchFormatError({ file, expected: `a zip-format PyTorch checkpoint (torch.save, torch >= 1.6)${legacy}`, found: `first bytes ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}` });
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (cause) {
    throw new TorchFormatError({ file, expected: 'a readable zip archive', cause });
  }
  const pkl = Object.keys(entries).find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) throw new TorchFormatError({ file, expected: 'an <archive>/data.pkl entry', found: Object.keys(entries).slice(0, 5).join(', ') });
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const order = entries[`${prefix}byteorder`];
  if (order && new TextDecoder().decode(order).trim() !== 'little') {
    throw new TorchFormatError({ file, expected: 'little-endian storages (byteorder "little")', found: new TextDecoder().decode(order) });
  }
  const values = new Map<string, Float32Array | Float64Array>();
  const storage = (ref: StorageRef): Float32Array | Float64Array => {
    let v = values.get(ref.key);
    if (!v) {
      const data = entries[`${prefix}data/${ref.key}`];
      if (!data) throw new TorchFormatError({ file, expected: `storage entry ${prefix}data/${ref.key}`, found: 'none' });
      v = storageValues(data, ref.dtype, file, ref.key);
      values.set(ref.key, v);
    }
    return v;
  };
  let top: unknown;
  try {
    top = unpickle(entries[pkl]!, {
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
          const [st, offset, size, stride] = args as [StorageRef, number, number[], number[]];
          return { kind: 'tensor', storage: st, offset, size: [...size], stride: [...stride] } satisfies TensorRef;
        }
        if (fn.qualified === 'torch._utils._rebuild_parameter' || fn.qualified === 'torch._utils._rebuild_parameter_with_state') return args[0];
        return undefined;
      },
    });
  } catch (err) {
    if (err instanceof TorchFormatError) throw err;
    throw new TorchFormatError({ file, expected: 'a torch.save pickle', found: err instanceof PickleError ? err.message : String(err), cause: err });
  }
  return { top, storage };
}

/**
 * Decodes a PyTorch checkpoint written by `torch.save(state_dict, path)` (the zip format of torch
 * >= 1.6: `<archive>/data.pkl` + `<archive>/data/<key>` storages) into a name -> weight map,
 * with no Python: the pickle is interpreted by a small opcode reader that executes nothing.
 * Views (offset, size, stride) are materialised row-major, float16/bfloat16 widened to float32,
 * integer tensors (BatchNorm counters) kept as numbers. A dict that wraps the state_dict under
 * `state_dict`/`model_state_dict`/`model`/`net` is unwrapped.
 *
 * @example
 * const weights = decodeTorchCheckpoint(new Uint8Array(await (await fetch('best.pth')).arrayBuffer()), 'best.pth');
 * for (const [name, { shape }] of weights) console.log(name, shape);
 */
export function decodeTorchCheckpoint(bytes: Uint8Array, file = '<buffer>'): Map<string, HostTensor> {
  const { top, storage } = openTorchArchive(bytes, file);
  let dict = top;
  if (dict instanceof Map && ![...dict.values()].some(isTensor)) {
    const key = STATE_DICT_KEYS.find((k) => dict instanceof Map && dict.get(k) instanceof Map);
    if (key) dict = (dict as Map<string, unknown>).get(key);
  }
  if (!(dict instanceof Map)) {
    const what = top instanceof PickleCall ? `a pickled ${top.fn.qualified} object (save model.state_dict(), not the model)` : typeof top;
    throw new TorchFormatError({ file, expected: 'a state_dict (a dict of tensors)', found: what });
  }
  const out = new Map<string, HostTensor>();
  for (const [name, value] of dict as Map<unknown, unknown>) {
    if (typeof name !== 'string' || !isTensor(value)) continue;
    out.set(name, materialise(value, storage(value.storage), file, name));
  }
  if (out.size === 0) throw new TorchFormatError({ file, expected: 'at least one tensor in the state_dict', found: `keys ${[...(dict as Map<unknown, unknown>).keys()].slice(0, 5).join(', ')}` });
  return out;
}

/**
 * Decodes a single tensor written by `torch.save(tensor, path)` (the authors' demo tokens are
 * saved this way), materialised row-major as float32/float64 with its shape.
 *
 * @example
 * const { shape, data } = decodeTorchTensor(encodeTorchSave({ shape: [2, 3], data: [1, 2, 3, 4, 5, 6] })); // shape [2, 3]
 */
export function decodeTorchTensor(bytes: Uint8Array, file = '<buffer>'): HostTensor {
  const { top, storage } = openTorchArchive(bytes, file);
  if (!isTensor(top)) {
    const what = top instanceof Map ? 'a dict (use decodeTorchCheckpoint or readTorchCheckpoint for a state_dict)' : top instanceof PickleCall ? `a pickled ${top.fn.qualified} object` : typeof top;
    throw new TorchFormatError({ file, expected: 'one tensor saved with torch.save(tensor, path)', found: what });
  }
  return materialise(top, storage(top.storage), file, '<tensor>');
}
