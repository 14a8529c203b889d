// A tensor view (storage offset, size, stride) is a claim about the storage it reads: it is
// checked exactly, before anything is allocated, and a broken one is a TorchFormatError naming the
// file, the tensor and the field.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TorchFormatError } from './errors.js';
import { readTorchCheckpoint } from './node/torch.js';
import { f32, ptFile, type ViewSpec } from './test-helpers.js';
import { decodeTorchCheckpoint, decodeTorchTensor } from './torch.js';

const six = f32([1, 2, 3, 4, 5, 6]);
const bare = (v: Partial<ViewSpec>) => ptFile({ key: '0', numel: 6, offset: 0, size: [6], stride: [1], ...v }, { '0': six });

function thrown(fn: () => unknown): TorchFormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TorchFormatError);
    return e as TorchFormatError;
  }
  throw new Error('expected a TorchFormatError, nothing was thrown');
}

describe('torch views are checked exactly', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tensor-io-views-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it.each<[string, Partial<ViewSpec>, string]>([
    ['a negative stride', { size: [4], stride: [-1] }, 'stride'],
    ['a negative size', { size: [-3], stride: [1] }, 'size'],
    ['a fractional storage offset', { offset: 1.5, size: [2], stride: [1] }, 'storage offset'],
    ['a negative storage offset', { offset: -1, size: [2], stride: [1] }, 'storage offset'],
    ['a fractional size', { size: [2.5], stride: [1] }, 'size'],
    ['a fractional stride', { size: [2, 2], stride: [2.5, 1] }, 'stride'],
    ['fewer strides than dimensions', { size: [2, 3], stride: [3] }, 'stride'],
    ['elements past the end of the storage', { offset: 4, size: [3], stride: [1] }, 'size and stride'],
    ['a stride that jumps past the end', { size: [2, 2], stride: [5, 1] }, 'size and stride'],
  ])('%s is refused, naming the file, the tensor and the field', (_, view, field) => {
    const err = thrown(() => decodeTorchTensor(bare(view), 'bad.pt'));
    expect(err.file).toBe('bad.pt');
    expect(err.tensor).toBe('<tensor>');
    expect(err.field).toBe(field);
    expect(err.message).toMatch(/^bad\.pt: /);
    expect(err.message).toContain(field);
  });

  it('a state dict names the tensor, and a file read from disk names its path', () => {
    const bytes = ptFile(
      [
        ['fc.bias', { key: '0', numel: 6, offset: 0, size: [2], stride: [1] }],
        ['enc.layers.0.weight', { key: '0', numel: 6, offset: 0, size: [-3], stride: [1] }],
      ],
      { '0': six },
    );
    const path = join(tmp, 'neg.pt');
    writeFileSync(path, bytes);
    const err = thrown(() => readTorchCheckpoint(path));
    expect(err.file).toBe(path);
    expect(err.tensor).toBe('enc.layers.0.weight');
    expect(err.field).toBe('size');
    expect(err.message).toContain(path);
    expect(err.message).toContain('enc.layers.0.weight');
  });

  it('stride 0 over a one-element storage with a huge size is refused, not materialised', () => {
    const one = f32([7]);
    for (const size of [[2 ** 40], [1, 2 ** 24, 2 ** 20], [2 ** 53 + 2]]) {
      const err = thrown(() => decodeTorchTensor(ptFile({ key: '0', numel: 1, offset: 0, size, stride: size.map(() => 0) }, { '0': one }), 'wide.pt'));
      expect(err.file).toBe('wide.pt');
      expect(err.tensor).toBe('<tensor>');
    }
  });

  it('a small broadcast (stride 0) view and a zero-size view are read', () => {
    const t = decodeTorchTensor(ptFile({ key: '0', numel: 3, offset: 0, size: [4, 3], stride: [0, 1] }, { '0': f32([1, 2, 3]) }));
    expect(t.shape).toEqual([4, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    const empty = decodeTorchTensor(bare({ offset: 6, size: [0, 5], stride: [5, 1] }));
    expect(empty.shape).toEqual([0, 5]);
    expect(empty.data.length).toBe(0);
  });

  it('views that repeat stored elements far beyond the file size are refused (tied weights are fine)', () => {
    const n = 1024;
    const storage = f32(Array.from({ length: n }, (_, i) => i));
    const tied = ptFile(
      [
        ['embed.weight', { key: '0', numel: n, offset: 0, size: [32, 32], stride: [32, 1] }],
        ['head.weight', { key: '0', numel: n, offset: 0, size: [32, 32], stride: [32, 1] }],
      ],
      { '0': storage },
    );
    const read = decodeTorchCheckpoint(tied);
    expect(Array.from(read.get('head.weight')!.data)).toEqual(Array.from(read.get('embed.weight')!.data));
    // 20,000 copies of the same 4 KB storage: 80 MB from a file of about 1 MB
    const many = ptFile(
      Array.from({ length: 20_000 }, (_, i) => [`w${i}`, { key: '0', numel: n, offset: 0, size: [n], stride: [1] }] as [string, ViewSpec]),
      { '0': storage },
    );
    const err = thrown(() => decodeTorchCheckpoint(many, 'many.pt'));
    expect(err.message).toMatch(/^many\.pt: /);
    expect(err.message).toMatch(/repeat/);
  });

  it('maxBytes refuses an honest tensor larger than the limit before reading it, and a raised limit reads it', () => {
    const bytes = bare({});
    const err = thrown(() => decodeTorchTensor(bytes, 'big.pt', { maxBytes: 20 }));
    expect(err.message).toMatch(/maxBytes/);
    expect(Array.from(decodeTorchTensor(bytes, 'big.pt', { maxBytes: 24 }).data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
