import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TensorFormatError, TorchFormatError } from './errors.js';
import type { HostTensor } from './host-tensor.js';
import { writeNpy } from './node/npy.js';
import { readTorchCheckpoint, readTorchTensor, writeTorchSave } from './node/torch.js';
import { decodeTorchCheckpoint, decodeTorchTensor } from './torch.js';
import { encodeTorchSave } from './torch-save.js';

/** A small state dict with the layouts a real one has: matrices, vectors, a 4-d kernel. */
function stateDict(): Map<string, HostTensor> {
  const shapes: Array<[string, number[]]> = [
    ['fc.weight', [5, 16]], ['fc.bias', [5]], ['fc_seg.bias', [7]], ['conv.weight', [4, 2, 3, 3]],
    ['transformer.decoder.norm.weight', [16]], ['transformer.decoder.norm.bias', [16]],
  ];
  return new Map(shapes.map(([name, shape], k) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return [name, { shape, data: Float32Array.from({ length: n }, (_, i) => Math.sin(0.7 * i + k) * (k + 1)) }];
  }));
}

function expectSameTensors(actual: Map<string, HostTensor>, expected: Map<string, HostTensor>, prefix = ''): void {
  for (const [name, t] of expected) {
    const got = actual.get(prefix + name);
    expect(got, name).toBeDefined();
    expect(got!.shape, name).toEqual(t.shape);
    expect(Array.from(got!.data), name).toEqual(Array.from(t.data));
  }
}

/** A tiny pickle writer producing what torch.save(state_dict) writes (protocol 2). */
class TorchPickle {
  private out: number[] = [];
  private memo = 0;
  private globals = new Map<string, number>();
  private u32(n: number) { this.out.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255); }
  op(...b: number[]) { this.out.push(...b); }
  put() { if (this.memo < 256) this.op(0x71, this.memo++); else { this.op(0x72); this.u32(this.memo++); } }
  str(s: string) { const b = Buffer.from(s, 'utf8'); this.op(0x58); this.u32(b.length); this.out.push(...b); this.put(); }
  int(n: number) { if (n < 256) this.op(0x4b, n); else if (n < 65536) this.op(0x4d, n & 255, n >> 8); else { this.op(0x4a); this.u32(n); } }
  global(mod: string, name: string) {
    const key = `${mod} ${name}`;
    const at = this.globals.get(key);
    if (at != null) { this.op(0x68, at); return; }
    this.op(0x63, ...Buffer.from(`${mod}\n${name}\n`, 'latin1'));
    this.globals.set(key, this.memo);
    this.put();
  }
  tuple(items: number[]) { this.op(0x28); items.forEach((i) => this.int(i)); this.op(0x74); this.put(); }
  bytes() { return Uint8Array.from(this.out); }
}

interface PtEntry { storageKey: string; dtype: 'FloatStorage' | 'LongStorage'; numel: number; offset: number; size: number[]; stride: number[] }

/** The pickle ops of one torch tensor (_rebuild_tensor_v2 over a persistent storage). */
function writeTensor(p: TorchPickle, e: PtEntry): void {
  p.global('torch._utils', '_rebuild_tensor_v2');
  p.op(0x28); // MARK (args)
  p.op(0x28); // MARK (persistent id)
  p.str('storage');
  p.global('torch', e.dtype);
  p.str(e.storageKey);
  p.str('cpu');
  p.int(e.numel);
  p.op(0x74); p.put(); // TUPLE
  p.op(0x51); // BINPERSID
  p.int(e.offset);
  p.tuple(e.size);
  p.tuple(e.stride);
  p.op(0x89); // NEWFALSE
  p.global('collections', 'OrderedDict');
  p.op(0x29, 0x52); p.put(); // empty backward hooks
  p.op(0x74); p.put(); // TUPLE
  p.op(0x52); p.put(); // REDUCE
}

function zipArchive(pkl: Uint8Array, storages: Map<string, Uint8Array>): Uint8Array {
  const files: Record<string, Uint8Array> = { 'archive/data.pkl': pkl, 'archive/byteorder': Buffer.from('little'), 'archive/version': Buffer.from('3\n') };
  for (const [k, v] of storages) files[`archive/data/${k}`] = v;
  return zipSync(files, { level: 0 });
}

function torchZip(entries: Map<string, PtEntry>, storages: Map<string, Uint8Array>): Uint8Array {
  const p = new TorchPickle();
  p.op(0x80, 2); // PROTO 2
  p.global('collections', 'OrderedDict');
  p.op(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  p.put();
  p.op(0x28); // MARK
  for (const [name, e] of entries) {
    p.str(name);
    writeTensor(p, e);
  }
  p.op(0x75); // SETITEMS
  p.op(0x2e); // STOP
  return zipArchive(p.bytes(), storages);
}

/** What torch.save(tensor) writes: the tensor itself as the pickle's top-level object. */
function torchTensorZip(e: PtEntry, storage: Uint8Array): Uint8Array {
  const p = new TorchPickle();
  p.op(0x80, 2);
  writeTensor(p, e);
  p.op(0x2e);
  return zipArchive(p.bytes(), new Map([[e.storageKey, storage]]));
}

function f32(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

const torchAvailable = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!torchAvailable) console.warn('[skip] /usr/bin/python3 cannot import torch: the real torch.save tests are skipped');

describe('PyTorch .pt read and write', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'tensor-io-torch-'));
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('reads a .pt built with the pickle structure of torch.save (module. prefix, shared storage with offset, a transposed view, an int64 counter)', () => {
    const weights = stateDict();
    const entries = new Map<string, PtEntry>();
    const storages = new Map<string, Uint8Array>();
    let key = 0;
    // the decoder norm's weight and bias share one storage, at an offset, as slices of a larger tensor do
    const shared = [...(weights.get('transformer.decoder.norm.weight')!.data as Float32Array), ...(weights.get('transformer.decoder.norm.bias')!.data as Float32Array)];
    storages.set('shared', f32(shared));
    for (const [name, w] of weights) {
      const full = `module.${name}`;
      if (name === 'transformer.decoder.norm.weight' || name === 'transformer.decoder.norm.bias') {
        const off = name.endsWith('bias') ? 16 : 0;
        entries.set(full, { storageKey: 'shared', dtype: 'FloatStorage', numel: 32, offset: off, size: w.shape, stride: [1] });
      } else if (name === 'fc.weight') {
        // stored as its transpose's contiguous storage, viewed with swapped strides (w.t() of a contiguous tensor)
        const [r, c] = w.shape as [number, number];
        const t = new Float32Array(r * c);
        for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = w.data[i * c + j]!;
        storages.set(String(key), f32(t));
        entries.set(full, { storageKey: String(key++), dtype: 'FloatStorage', numel: r * c, offset: 0, size: [r, c], stride: [1, r] });
      } else {
        const stride = w.shape.map((_, d) => w.shape.slice(d + 1).reduce((x, y) => x * y, 1));
        storages.set(String(key), f32(w.data));
        entries.set(full, { storageKey: String(key++), dtype: 'FloatStorage', numel: w.data.length, offset: 0, size: w.shape, stride });
      }
    }
    storages.set('nbt', new Uint8Array(new BigInt64Array([7n]).buffer));
    entries.set('module.fuser.bn_rgb.num_batches_tracked', { storageKey: 'nbt', dtype: 'LongStorage', numel: 1, offset: 0, size: [], stride: [] });
    const bytes = torchZip(entries, storages);
    const path = join(tmp, 'handmade.pt');
    writeFileSync(path, bytes);

    const read = readTorchCheckpoint(path);
    expect([...read.keys()]).toEqual([...entries.keys()]);
    expect(read.get('module.fuser.bn_rgb.num_batches_tracked')).toEqual({ shape: [], data: Float64Array.from([7]) });
    expectSameTensors(read, weights, 'module.');
    expect(decodeTorchCheckpoint(bytes, 'handmade.pt')).toEqual(read);
  });

  it.skipIf(!torchAvailable)('reads a real torch.save file (generated by /usr/bin/python3 with torch; skipped when torch does not import)', () => {
    const weights = stateDict();
    const npyDir = join(tmp, 'npy');
    for (const [name, w] of weights) writeNpy(join(npyDir, `${name}.npy`), { dtype: 'float32', shape: w.shape, data: w.data as Float32Array });
    const script = `
import collections, os, sys, numpy as np, torch
src, dst, wrapped = sys.argv[1], sys.argv[2], sys.argv[3]
sd = collections.OrderedDict()
for f in sorted(os.listdir(src)):
    w = torch.from_numpy(np.load(os.path.join(src, f)))
    if f == 'fc.weight.npy':
        w = w.t().contiguous().t()          # a non-contiguous view
    sd['module.' + f[:-4]] = torch.nn.Parameter(w) if w.dim() > 1 else w
sd['module.fuser.bn_depth.num_batches_tracked'] = torch.tensor(3, dtype=torch.long)
sd['module.transformer.encoder.layers.0.linear1.weight'] = torch.zeros(32, 16)
sd['module.fc_seg.bias'] = torch.cat([torch.zeros(3), sd['module.fc_seg.bias']])[3:]  # a view with a storage offset
torch.save({'state_dict': sd, 'epoch': 4} if wrapped == '1' else sd, dst)
`;
    for (const wrapped of ['0', '1']) {
      const path = join(tmp, `real-${wrapped}.pth`);
      execFileSync('/usr/bin/python3', ['-c', script, npyDir, path, wrapped]);
      const read = readTorchCheckpoint(path);
      expectSameTensors(read, weights, 'module.');
      expect(read.get('module.fuser.bn_depth.num_batches_tracked')).toEqual({ shape: [], data: Float64Array.from([3]) });
      expect(read.get('module.transformer.encoder.layers.0.linear1.weight')!.shape).toEqual([32, 16]);
      expect(read.size).toBe(weights.size + 2);
    }
  });

  it('reads a bare tensor saved with torch.save(tensor) (the demo tokens), a view with offset and leading 1', () => {
    const values = Array.from({ length: 2 + 6 }, (_, i) => i * 0.5);
    const path = join(tmp, 'tokens.pt');
    writeFileSync(path, torchTensorZip({ storageKey: '0', dtype: 'FloatStorage', numel: 8, offset: 2, size: [1, 3, 2], stride: [6, 2, 1] }, f32(values)));
    const t = readTorchTensor(path);
    expect(t.shape).toEqual([1, 3, 2]);
    expect(Array.from(t.data)).toEqual(values.slice(2));
    expect(() => readTorchTensor(join(tmp, 'handmade.pt'))).toThrow(/one tensor saved with torch.save\(tensor, path\).*a dict/);
    expect(() => readTorchCheckpoint(path)).toThrow(/a state_dict/);
  });

  it('encodeTorchSave writes what the reader (and torch.load) reads back: a state dict and a bare tensor', () => {
    const weights = stateDict();
    const path = join(tmp, 'export.pth');
    writeTorchSave(path, weights);
    const back = readTorchCheckpoint(path);
    expect([...back.keys()]).toEqual([...weights.keys()]);
    expectSameTensors(back, weights);
    const tensor = { shape: [2, 3], data: Float64Array.from([1, 2, 3, 4, 5, 6.5]) };
    expect(decodeTorchTensor(encodeTorchSave(tensor))).toEqual(tensor);
    if (!torchAvailable) return;
    const check = `
import sys, torch
sd = torch.load(sys.argv[1])
print(len(sd), float(sum(v.double().sum() for v in sd.values())))
`;
    const [count, total] = execFileSync('/usr/bin/python3', ['-c', check, path], { encoding: 'utf8' }).trim().split(' ');
    expect(Number(count)).toBe(weights.size);
    const expected = [...weights.values()].reduce((acc, w) => acc + Array.from(w.data).reduce((x, y) => x + y, 0), 0);
    expect(Number(total)).toBeCloseTo(expected, 3);
  });

  it('rejects files that are not zip checkpoints, or pickles of whole models, with a TorchFormatError', () => {
    const legacy = join(tmp, 'legacy.pt');
    writeFileSync(legacy, Uint8Array.from([0x80, 0x02, 0x8a, 0x0a]));
    expect(() => readTorchCheckpoint(legacy)).toThrow(/legacy pre-1.6 format/);
    expect(() => readTorchCheckpoint(legacy)).toThrow(TorchFormatError);
    const p = new TorchPickle();
    p.op(0x80, 2);
    p.global('model.futr', 'FUTR');
    p.op(0x29, 0x81, 0x2e); // EMPTY_TUPLE NEWOBJ STOP
    const whole = join(tmp, 'whole.pt');
    writeFileSync(whole, zipSync({ 'archive/data.pkl': p.bytes() }, { level: 0 }));
    expect(() => readTorchCheckpoint(whole)).toThrow(/model\.futr\.FUTR object \(save model\.state_dict\(\)/);
    expect(() => readTorchCheckpoint(join(tmp, 'no-such.pt'))).toThrow(TensorFormatError);
    expect(() => readTorchCheckpoint(join(tmp, 'no-such.pt'))).toThrow(/no-such\.pt: expected a readable PyTorch checkpoint file/);
  });
});
