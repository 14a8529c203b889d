import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsFormatError, TensorFormatError } from './errors.js';
import { readSafetensors, writeSafetensors } from './node/safetensors.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

const tensors = {
  'fc.weight': { dtype: 'F32' as const, shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6.5]) },
  step: { dtype: 'I32' as const, shape: [], data: new Int32Array([7]) },
  flags: { dtype: 'U8' as const, shape: [3], data: new Uint8Array([1, 0, 1]) },
  moments: { dtype: 'F64' as const, shape: [2], data: new Float64Array([0.1, -1e-300]) },
};

function headerOf(bytes: Uint8Array): { length: number; header: Record<string, any> } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { length, header: JSON.parse(Buffer.from(bytes.subarray(8, 8 + length)).toString()) };
}

/** A safetensors image written by hand, for dtypes this encoder does not write. */
function handMade(entries: Array<{ name: string; dtype: string; shape: number[]; bytes: Uint8Array }>): Uint8Array {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + e.bytes.length] };
    at += e.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(Buffer.from(json), 8);
  let pos = 8 + json.length;
  for (const e of entries) {
    out.set(e.bytes, pos);
    pos += e.bytes.length;
  }
  return out;
}

describe('safetensors', () => {
  const root = mkdtempSync(join(tmpdir(), 'r3d-safetensors-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes the documented layout: u64 LE header length, JSON header padded to 8, LE data in name order', () => {
    const bytes = encodeSafetensors(tensors, { format: 'test' });
    const { length: n, header } = headerOf(bytes);
    expect(n % 8).toBe(0);
    expect(header.__metadata__).toEqual({ format: 'test' });
    expect(header['fc.weight']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(header.flags).toEqual({ dtype: 'U8', shape: [3], data_offsets: [24, 27] });
    expect(header.moments).toEqual({ dtype: 'F64', shape: [2], data_offsets: [27, 43] });
    expect(header.step).toEqual({ dtype: 'I32', shape: [], data_offsets: [43, 47] });
    const view = new DataView(bytes.buffer);
    expect(view.getFloat32(8 + n + 5 * 4, true)).toBe(6.5);
    expect(view.getFloat64(8 + n + 27 + 8, true)).toBe(-1e-300);
    expect(view.getInt32(8 + n + 43, true)).toBe(7);
    expect(bytes.byteLength).toBe(8 + n + 47);
  });

  it('writes host tensors (no dtype) as F32, and the bytes do not depend on insertion order', () => {
    const a = encodeSafetensors(new Map([['x', { shape: [2], data: [1.5, -2] }], ['b', { shape: [1], data: new Float64Array([3]) }]]), { a: 'b' });
    const b = encodeSafetensors(new Map([['b', { shape: [1], data: [3] }], ['x', { shape: [2], data: new Float32Array([1.5, -2]) }]]), { a: 'b' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const { length, header } = headerOf(a);
    expect((8 + length) % 8).toBe(0);
    expect(header).toEqual({
      __metadata__: { a: 'b' },
      b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      x: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    });
    expect(Array.from(new Float32Array(a.slice(8 + length).buffer))).toEqual([3, 1.5, -2]);
  });

  it('round-trips every written dtype, keeping it (typed arrays of the same kind)', () => {
    const back = decodeSafetensors(encodeSafetensors(tensors, { k: 'v' }));
    expect(back.metadata).toEqual({ k: 'v' });
    expect([...back.tensors.keys()]).toEqual(['fc.weight', 'flags', 'moments', 'step']);
    for (const [name, t] of Object.entries(tensors)) {
      const e = back.tensors.get(name)!;
      expect(e.dtype).toBe(t.dtype);
      expect(e.shape).toEqual(t.shape);
      expect(e.data.constructor).toBe(t.data.constructor);
      expect(Array.from(e.data)).toEqual(Array.from(t.data));
    }
  });

  it('reads F16 and I64 (written by other tools), widened to F32 and F64', () => {
    const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x7c00]).buffer); // 1, -2, ~1/3, +inf
    const long = new Uint8Array(new BigInt64Array([-5n, 2n ** 40n]).buffer);
    const { tensors: t } = decodeSafetensors(handMade([
      { name: 'h', dtype: 'F16', shape: [2, 2], bytes: half },
      { name: 'n', dtype: 'I64', shape: [2], bytes: long },
    ]));
    const h = t.get('h')!;
    expect(h.dtype).toBe('F32');
    expect(h.data).toBeInstanceOf(Float32Array);
    expect(h.shape).toEqual([2, 2]);
    expect(h.data[0]).toBe(1);
    expect(h.data[1]).toBe(-2);
    expect(h.data[2]).toBeCloseTo(1 / 3, 3);
    expect(h.data[3]).toBe(Number.POSITIVE_INFINITY);
    const n = t.get('n')!;
    expect(n.dtype).toBe('F64');
    expect(Array.from(n.data)).toEqual([-5, 2 ** 40]);
  });

  it('decoded arrays are copies, independent of the input bytes', () => {
    const bytes = encodeSafetensors({ w: { dtype: 'F32', shape: [1], data: new Float32Array([2]) } });
    const w = decodeSafetensors(bytes).tensors.get('w')!;
    bytes.fill(0);
    expect(w.data[0]).toBe(2);
  });

  it.each([
    ['truncated data', (b: Uint8Array) => b.subarray(0, b.length - 2), /the data of entry step to end at byte 47 .*truncated/],
    ['truncated header', (b: Uint8Array) => b.subarray(0, 20), /truncated/],
    ['fewer than 8 bytes', (b: Uint8Array) => b.subarray(0, 5), /truncated/],
    ['trailing bytes', (b: Uint8Array) => Buffer.concat([b, new Uint8Array(4)]), /trailing/],
    ['garbled header', (b: Uint8Array) => { const c = Uint8Array.from(b); c[9] = 0x7b; c[10] = 0x7b; return c; }, /JSON/],
    ['an absurd header length', (b: Uint8Array) => { const c = Uint8Array.from(b); new DataView(c.buffer).setBigUint64(0, 2n ** 40n, true); return c; }, /declared header of \d+ bytes/],
  ])('rejects %s with a SafetensorsFormatError naming the file', (_name, mutate, pattern) => {
    const bytes = mutate(encodeSafetensors(tensors));
    const decode = () => decodeSafetensors(bytes, 'w.safetensors');
    expect(decode).toThrow(SafetensorsFormatError);
    expect(decode).toThrow(TensorFormatError); // one class catches every format's errors
    expect(decode).toThrow(pattern);
    expect(decode).toThrow(/^w\.safetensors: expected/);
  });

  it.each([
    ['an unknown dtype', { w: { dtype: 'BF16', shape: [1], data_offsets: [0, 2] } }, 2, /dtype of entry w in F32\/F64\/I32\/U8\/F16\/I64, found "BF16"/],
    ['a bad shape', { w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4, /shape of entry w as a list of non-negative integers/],
    ['offsets that do not match the shape', { w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 4, /data_offsets of entry w = \[0, 8\]/],
    ['a gap between entries', { a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] }, b: { dtype: 'U8', shape: [1], data_offsets: [2, 3] } }, 3, /data_offsets of entry b = \[1, 2\]/],
    ['a header that is not an object', [1, 2], 0, /a JSON object header, found "array"/],
  ])('rejects a header with %s', (_name, header, dataBytes, pattern) => {
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const bytes = new Uint8Array(8 + json.length + dataBytes);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(Buffer.from(json), 8);
    expect(() => decodeSafetensors(bytes, 'h.safetensors')).toThrow(SafetensorsFormatError);
    expect(() => decodeSafetensors(bytes, 'h.safetensors')).toThrow(pattern);
  });

  it('rejects data that does not fit the shape, or a dtype it cannot write, naming the entry', () => {
    expect(() => encodeSafetensors({ w: { shape: [2, 2], data: [1, 2, 3] } })).toThrow(/^w: expected 4 values for shape \[2, 2\], found "3"/);
    expect(() => encodeSafetensors({ w: { dtype: 'F16' as never, shape: [1], data: [1] } })).toThrow(SafetensorsFormatError);
  });

  it('writes files atomically and reads them back; a missing file is a SafetensorsFormatError', () => {
    const path = join(root, 'sub', 'w.safetensors');
    writeSafetensors(path, tensors, { format: 'test' });
    writeSafetensors(path, { only: { dtype: 'U8', shape: [1], data: new Uint8Array([9]) } });
    expect(readdirSync(join(root, 'sub'))).toEqual(['w.safetensors']); // no temporary file left
    const back = readSafetensors(path);
    expect([...back.tensors.keys()]).toEqual(['only']);
    expect(back.metadata).toEqual({});
    expect(readFileSync(path).byteLength).toBe(encodeSafetensors({ only: { dtype: 'U8', shape: [1], data: [9] } }).byteLength);
    const missing = join(root, 'none.safetensors');
    expect(() => readSafetensors(missing)).toThrow(SafetensorsFormatError);
    expect(() => readSafetensors(missing)).toThrow(`${missing}: expected a readable .safetensors file, found "none"`);
  });
});
