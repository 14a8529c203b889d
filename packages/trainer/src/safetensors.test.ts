import { describe, expect, it } from 'vitest';
import { CheckpointError } from './errors.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

const tensors = {
  'fc.weight': { dtype: 'F32' as const, shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6.5]) },
  step: { dtype: 'I32' as const, shape: [], data: new Int32Array([7]) },
  flags: { dtype: 'U8' as const, shape: [3], data: new Uint8Array([1, 0, 1]) },
};

describe('safetensors', () => {
  it('writes the documented layout: u64 LE header length, JSON header padded to 8, LE data', () => {
    const bytes = encodeSafetensors(tensors, { format: 'test' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString());
    expect(header.__metadata__).toEqual({ format: 'test' });
    // arrays are laid out in sorted name order
    expect(header['fc.weight']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(header.flags.data_offsets).toEqual([24, 27]);
    expect(header.step).toEqual({ dtype: 'I32', shape: [], data_offsets: [27, 31] });
    expect(new DataView(bytes.buffer).getFloat32(8 + n + 5 * 4, true)).toBe(6.5);
    expect(bytes.byteLength).toBe(8 + n + 3 + 24 + 4);
  });

  it('round-trips', () => {
    const back = decodeSafetensors(encodeSafetensors(tensors));
    expect(Array.from(back.tensors['fc.weight'].data)).toEqual([1, 2, 3, 4, 5, 6.5]);
    expect(back.tensors.step.shape).toEqual([]);
    expect(Array.from(back.tensors.step.data)).toEqual([7]);
    expect(Array.from(back.tensors.flags.data)).toEqual([1, 0, 1]);
  });

  it.each([
    ['truncated data', (b: Uint8Array) => b.subarray(0, b.length - 2), /truncated/],
    ['truncated header', (b: Uint8Array) => b.subarray(0, 20), /truncated/],
    ['fewer than 8 bytes', (b: Uint8Array) => b.subarray(0, 5), /truncated/],
    ['trailing bytes', (b: Uint8Array) => Buffer.concat([b, new Uint8Array(4)]), /trailing/],
    ['garbled header', (b: Uint8Array) => { const c = Uint8Array.from(b); c[9] = 0x7b; c[10] = 0x7b; return c; }, /JSON/],
  ])('rejects %s with a CheckpointError naming the file', (_name, mutate, pattern) => {
    const bytes = mutate(encodeSafetensors(tensors));
    expect(() => decodeSafetensors(bytes, 'w.safetensors')).toThrow(CheckpointError);
    expect(() => decodeSafetensors(bytes, 'w.safetensors')).toThrow(pattern);
    expect(() => decodeSafetensors(bytes, 'w.safetensors')).toThrow(/^w\.safetensors: expected/);
  });
});
