// Every reader checks what a header claims against the bytes present and against `maxBytes`
// before it allocates; the limit is an option with a documented default.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BYTES, NpyFormatError, SafetensorsFormatError, TorchFormatError, encodeNpy, encodeSafetensors } from './index.js';
import { readNpy, readNpyFolder, readSafetensors, readTorchTensor } from './node/index.js';
import { parseNpy } from './npy.js';
import { decodeSafetensors } from './safetensors.js';
import { f32, npyClaiming, ptFile, safetensorsClaiming } from './test-helpers.js';

describe('read limits', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tensor-io-limits-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('DEFAULT_MAX_BYTES is 4 GiB', () => {
    expect(DEFAULT_MAX_BYTES).toBe(4 * 2 ** 30);
  });

  it('.npy: a shape claiming far more than the file holds, or dimensions past 2^53, are refused', () => {
    expect(() => parseNpy(npyClaiming('(1073741824,)', 16), 'big.npy')).toThrow(NpyFormatError);
    expect(() => parseNpy(npyClaiming('(1073741824,)', 16), 'big.npy')).toThrow(/big\.npy @byte \d+: expected 4294967296 bytes of data/);
    expect(() => parseNpy(npyClaiming('(0, 99999999999999999999)', 0), 'wide.npy')).toThrow(/wide\.npy .*dimensions/);
  });

  it('.npy: maxBytes refuses an honest array over the limit and reads it under a raised one', () => {
    const bytes = encodeNpy({ shape: [4, 4], data: new Float32Array(16) });
    expect(() => parseNpy(bytes, 'a.npy', { maxBytes: 63 })).toThrow(/a\.npy .*maxBytes/);
    expect(parseNpy(bytes, 'a.npy', { maxBytes: 64 }).shape).toEqual([4, 4]);
    const path = join(tmp, 'a.npy');
    writeFileSync(path, bytes);
    expect(() => readNpy(path, { maxBytes: 63 })).toThrow(NpyFormatError);
  });

  it('.npy folder: maxBytes bounds the whole folder, not each file', () => {
    const dir = join(tmp, 'weights');
    mkdirSync(dir);
    for (const name of ['a', 'b', 'c']) writeFileSync(join(dir, `${name}.npy`), encodeNpy({ shape: [8], data: new Float32Array(8) }));
    expect(readNpyFolder(dir, { maxBytes: 96 }).size).toBe(3);
    expect(() => readNpyFolder(dir, { maxBytes: 95 })).toThrow(/c\.npy.*maxBytes/);
  });

  it('safetensors: offsets or a shape beyond the file are refused; maxBytes bounds the decoded arrays', () => {
    expect(() => decodeSafetensors(safetensorsClaiming({ dtype: 'F32', shape: [2 ** 28], data_offsets: [0, 2 ** 30] }, 16), 'far.safetensors')).toThrow(SafetensorsFormatError);
    expect(() => decodeSafetensors(safetensorsClaiming({ dtype: 'F32', shape: [2 ** 28], data_offsets: [0, 16] }, 16), 'shape.safetensors')).toThrow(/shape\.safetensors/);
    expect(() => decodeSafetensors(safetensorsClaiming({ dtype: 'F32', shape: [2 ** 60], data_offsets: [0, 16] }, 16), 'huge.safetensors')).toThrow(SafetensorsFormatError);
    const bytes = encodeSafetensors({ a: { shape: [4], data: [1, 2, 3, 4] }, b: { shape: [4], data: [5, 6, 7, 8] } });
    expect(() => decodeSafetensors(bytes, 'w.safetensors', { maxBytes: 31 })).toThrow(/w\.safetensors.*maxBytes/);
    expect(decodeSafetensors(bytes, 'w.safetensors', { maxBytes: 32 }).tensors.size).toBe(2);
    const path = join(tmp, 'w.safetensors');
    writeFileSync(path, bytes);
    expect(() => readSafetensors(path, { maxBytes: 31 })).toThrow(SafetensorsFormatError);
  });

  it('the ./node torch readers pass maxBytes on', () => {
    const path = join(tmp, 't.pt');
    writeFileSync(path, ptFile({ key: '0', numel: 4, offset: 0, size: [4], stride: [1] }, { '0': f32([1, 2, 3, 4]) }));
    expect(() => readTorchTensor(path, { maxBytes: 15 })).toThrow(TorchFormatError);
    expect(() => readTorchTensor(path, { maxBytes: 15 })).toThrow(/t\.pt: .*maxBytes/);
    expect(readTorchTensor(path, { maxBytes: 16 }).shape).toEqual([4]);
  });

  it('a maxBytes that is not a non-negative number is a RangeError', () => {
    expect(() => parseNpy(encodeNpy({ shape: [1], data: new Float32Array(1) }), 'a.npy', { maxBytes: -1 })).toThrow(RangeError);
    expect(() => parseNpy(encodeNpy({ shape: [1], data: new Float32Array(1) }), 'a.npy', { maxBytes: Number.NaN })).toThrow(RangeError);
  });
});
