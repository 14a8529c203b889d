import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NpyFormatError, TensorFormatError } from './errors.js';
import { readNpy, readNpyHeader, writeNpy } from './node/npy.js';
import { encodeNpy, parseNpy, parseNpyHeader } from './npy.js';

function header(dict: string, version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  const pad = (64 - ((pre + dict.length + 1) % 64)) % 64;
  const text = new TextEncoder().encode(dict + ' '.repeat(pad) + '\n');
  const out = new Uint8Array(pre + text.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, text.length, true);
  else v.setUint32(8, text.length, true);
  out.set(text, pre);
  return out;
}
const concat = (a: Uint8Array, b: Uint8Array) => { const o = new Uint8Array(a.length + b.length); o.set(a); o.set(b, a.length); return o; };

describe('npy', () => {
  it.each([
    ['float32', new Float32Array([1.5, -2, 3e-8, 4, 5, 6])],
    ['float64', new Float64Array([Math.PI, -1, 0, 1e300, 2, 3])],
    ['int32', new Int32Array([1, -2, 3, 2 ** 31 - 1, 0, -7])],
    ['uint8', new Uint8Array([0, 255, 1, 2, 3, 4])],
    ['int16', new Int16Array([-32768, 32767, 0, 1, 2, 3])],
    ['uint16', new Uint16Array([65535, 0, 1, 2, 3, 4])],
  ] as const)('round-trips %s', (dtype, data) => {
    const back = parseNpy(encodeNpy({ shape: [2, 3], data }));
    expect(back.dtype).toBe(dtype);
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(data));
  });

  it('writes headers padded to 64 bytes, as numpy does', () => {
    const bytes = encodeNpy({ shape: [3], data: new Float32Array(3) });
    expect((bytes.length - 12) % 64).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(10, 80))).toContain("'shape': (3,)");
  });

  it('reads v2 and v3 headers and scalars', () => {
    const data = new Float64Array([7]);
    for (const v of [2, 3]) {
      const a = parseNpy(concat(header("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", v), new Uint8Array(data.buffer)));
      expect(a.shape).toEqual([1, 1]);
      expect(a.data[0]).toBe(7);
    }
    const s = parseNpy(concat(header("{'descr': '<f8', 'fortran_order': False, 'shape': (), }"), new Uint8Array(data.buffer)));
    expect(s.shape).toEqual([]);
    expect(s.data.length).toBe(1);
  });

  it.each([
    ["{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", /fortran_order': False/],
    ["{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", /big-endian/],
    ["{'descr': '<c8', 'fortran_order': False, 'shape': (2, 2), }", /little-endian numeric dtype/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", /expected 16 bytes of data/],
    ["{'descr': '<f4', 'shape': (2,), }", /fortran_order/],
  ])('rejects %s with a typed error', (dict, pattern) => {
    const bytes = concat(header(dict), new Uint8Array(4));
    const err = (() => { try { parseNpy(bytes, 'bad.npy'); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(NpyFormatError);
    expect(err).toBeInstanceOf(TensorFormatError);
    expect((err as Error).message).toMatch(/^bad\.npy @byte \d+: /);
    expect((err as Error).message).toMatch(pattern);
  });

  it('rejects a wrong magic and truncated headers', () => {
    expect(() => parseNpy(new Uint8Array(20), 'x.npy')).toThrow(/x\.npy @byte 0: expected the magic/);
    const ok = encodeNpy({ shape: [4], data: new Float32Array(4) });
    expect(() => parseNpy(ok.subarray(0, 30), 'y.npy')).toThrow(NpyFormatError);
  });

  it('writes atomically to disk and reads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    const p = join(dir, 'a.npy');
    writeNpy(p, { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) });
    expect(Array.from(readNpy(p).data as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(readFileSync(p).subarray(1, 6).toString()).toBe('NUMPY');
  });

  it('reads only the header: shape and data extent of an array far larger than memory, from a sparse file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-header-'));
    const p = join(dir, 'huge.npy');
    const head = header("{'descr': '<f4', 'fortran_order': False, 'shape': (2000000, 2048), }");
    writeFileSync(p, head);
    truncateSync(p, head.length + 2_000_000 * 2048 * 4); // 16 GB on paper, no blocks on disk
    expect(readNpyHeader(p)).toEqual({ dtype: 'float32', shape: [2000000, 2048], dataOffset: head.length, dataBytes: 2_000_000 * 2048 * 4, fileBytes: head.length + 2_000_000 * 2048 * 4 });
    // a truncated file still gives its header; the caller compares fileBytes with dataOffset + dataBytes
    const cut = join(dir, 'cut.npy');
    writeFileSync(cut, concat(header("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 5), }", 2), new Uint8Array(8)));
    expect(readNpyHeader(cut)).toMatchObject({ dtype: 'float64', shape: [3, 5], dataBytes: 120, fileBytes: 12 + 116 + 8 });
  });

  it('parses headers with the errors parseNpy gives', () => {
    const bytes = encodeNpy({ shape: [2, 3], data: new Float32Array(6) });
    expect(parseNpyHeader(bytes.subarray(0, bytes.length - 24))).toEqual({ dtype: 'float32', shape: [2, 3], dataOffset: bytes.length - 24, dataBytes: 24 });
    expect(() => parseNpyHeader(new Uint8Array(20), 'x.npy')).toThrow(/x\.npy @byte 0: expected the magic/);
    const dir = mkdtempSync(join(tmpdir(), 'npy-header-'));
    const p = join(dir, 'big-endian.npy');
    writeFileSync(p, header("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }"));
    expect(() => readNpyHeader(p)).toThrow(/big-endian\.npy @byte 10: .*big-endian/);
    writeFileSync(p, bytes.subarray(0, 30));
    expect(() => readNpyHeader(p)).toThrow(NpyFormatError);
  });
});
