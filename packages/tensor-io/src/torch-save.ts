import { zipSync } from 'fflate';
import type { HostTensor } from './host-tensor.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * A protocol-2 pickle writer for exactly what `torch.save` emits for tensors and dicts of tensors:
 * `torch._utils._rebuild_tensor_v2` over persistent storages, an `OrderedDict` for state dicts.
 */
class PickleWriter {
  private readonly out: number[] = [0x80, 2]; // PROTO 2
  private memo = 0;

  private u32(n: number): void {
    this.out.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
  }

  put(): void {
    if (this.memo < 256) this.out.push(0x71, this.memo++); // BINPUT
    else {
      this.out.push(0x72); // LONG_BINPUT
      this.u32(this.memo++);
    }
  }

  op(...bytes: number[]): void {
    this.out.push(...bytes);
  }

  str(s: string): void {
    const b = utf8(s);
    this.out.push(0x58); // BINUNICODE
    this.u32(b.length);
    this.out.push(...b);
    this.put();
  }

  int(n: number): void {
    if (n >= 0 && n < 256) this.out.push(0x4b, n); // BININT1
    else if (n >= 0 && n < 65536) this.out.push(0x4d, n & 255, n >> 8); // BININT2
    else {
      this.out.push(0x4a); // BININT
      this.u32(n);
    }
  }

  global(module: string, name: string): void {
    // GLOBAL: module and name are ASCII identifiers, so their UTF-8 bytes are the latin-1 pickle wants
    this.out.push(0x63, ...utf8(`${module}\n${name}\n`));
    this.put();
  }

  tuple(items: readonly number[]): void {
    this.out.push(0x28); // MARK
    for (const i of items) this.int(i);
    this.out.push(0x74); // TUPLE
    this.put();
  }

  /** A contiguous tensor over storage `key`: _rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict()). */
  tensor(t: HostTensor, key: string, storageType: string): void {
    const stride = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.op(0x28); // MARK: arguments
    this.op(0x28); // MARK: persistent id ('storage', type, key, location, numel)
    this.str('storage');
    this.global('torch', storageType);
    this.str(key);
    this.str('cpu');
    this.int(t.data.length);
    this.op(0x74); // TUPLE
    this.put();
    this.op(0x51); // BINPERSID
    this.int(0);
    this.tuple(t.shape);
    this.tuple(stride);
    this.op(0x89); // NEWFALSE: requires_grad
    this.global('collections', 'OrderedDict');
    this.op(0x29, 0x52); // EMPTY_TUPLE, REDUCE: backward hooks
    this.put();
    this.op(0x74); // TUPLE
    this.put();
    this.op(0x52); // REDUCE
    this.put();
  }

  bytes(): Uint8Array {
    return Uint8Array.from([...this.out, 0x2e]); // STOP
  }
}

function storageBytes(t: HostTensor): { type: string; bytes: Uint8Array } {
  const double = t.data instanceof Float64Array;
  const typed = double ? (t.data as Float64Array) : Float32Array.from(t.data);
  return { type: double ? 'DoubleStorage' : 'FloatStorage', bytes: new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength) };
}

/**
 * Encodes a tensor, or a state dict of tensors, exactly as `torch.save(obj, path)` writes it (the
 * zip format of torch >= 1.6, one storage per tensor), so weights trained here load in PyTorch
 * with `torch.load(path)` and `model.load_state_dict(...)`. Float64 data stays float64; anything
 * else is written as float32.
 *
 * @example
 * const bytes = encodeTorchSave(new Map([['fc.bias', { shape: [3], data: Float32Array.from([1, 2, 3]) }]])); // or writeTorchSave
 */
export function encodeTorchSave(value: HostTensor | Map<string, HostTensor>): Uint8Array {
  const pickle = new PickleWriter();
  const storages: Record<string, Uint8Array> = {};
  const add = (t: HostTensor, key: string) => {
    const { type, bytes } = storageBytes(t);
    storages[`archive/data/${key}`] = bytes;
    pickle.tensor(t, key, type);
  };
  if (value instanceof Map) {
    pickle.global('collections', 'OrderedDict');
    pickle.op(0x29, 0x52); // EMPTY_TUPLE, REDUCE
    pickle.put();
    pickle.op(0x28); // MARK
    let key = 0;
    for (const [name, t] of value) {
      pickle.str(name);
      add(t, String(key++));
    }
    pickle.op(0x75); // SETITEMS
  } else {
    add(value, '0');
  }
  return zipSync(
    { 'archive/data.pkl': pickle.bytes(), 'archive/byteorder': utf8('little'), 'archive/version': utf8('3\n'), ...storages },
    { level: 0 },
  );
}
