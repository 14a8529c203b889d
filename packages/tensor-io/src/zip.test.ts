// The .pt zip reader inflates only what the pickle uses, and checks every declared size against
// the bytes present and the limit before it allocates.
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TorchFormatError } from './errors.js';
import { deflatedZeros, f32, MiB, ptFile, zipFiles } from './test-helpers.js';
import { decodeTorchCheckpoint, decodeTorchTensor } from './torch.js';
import { readZipDirectory, readZipEntry } from './zip.js';

const view = { key: '0', numel: 4, offset: 0, size: [4], stride: [1] };

describe('.pt zip entries', () => {
  it('an unused entry is never inflated, whatever it declares (corrupt data, 2 GiB)', () => {
    const junk = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) ^ 0xa5);
    const bytes = ptFile(view, { '0': f32([1, 2, 3, 4]) }, [{ name: 'archive/extra/blob', data: junk, method: 8, size: 2 ** 31 }]);
    expect(Array.from(decodeTorchTensor(bytes, 'extra.pt').data)).toEqual([1, 2, 3, 4]);
  });

  it('a deflated storage (and a deflated data.pkl) is read, inflated to exactly its declared size', () => {
    const entries = [
      ['archive/data.pkl', pickleOf(ptFile(view, { '0': f32([1, 2, 3, 4]) }))],
      ['archive/data/0', f32([1, 2, 3, 4])],
    ] as const;
    const zip = zipFiles(entries.map(([name, data]) => ({ name, data: deflateRawSync(data), method: 8 as const, size: data.length })));
    expect(Array.from(decodeTorchTensor(zip, 'deflated.pt').data)).toEqual([1, 2, 3, 4]);
  });

  it('a zip64 directory (64-bit sizes and offsets in extra fields) is read', () => {
    const zip = zipFiles(
      [
        { name: 'archive/data.pkl', data: pickleOf(ptFile(view, { '0': f32([1, 2, 3, 4]) })) },
        { name: 'archive/data/0', data: f32([1, 2, 3, 4]) },
      ],
      { zip64: true },
    );
    expect(Array.from(decodeTorchTensor(zip, 'z64.pt').data)).toEqual([1, 2, 3, 4]);
  });

  it('a used storage that inflates to less or more than it declares is refused, naming the entry', () => {
    // 4 floats declared as 16, and 8 floats declared as 4
    for (const [values, size] of [[[1, 2, 3, 4], 64], [[1, 2, 3, 4, 5, 6, 7, 8], 16]] as const) {
      const zip = zipFiles([
        { name: 'archive/data.pkl', data: pickleOf(ptFile(view, { '0': f32([1, 2, 3, 4]) })) },
        { name: 'archive/data/0', data: deflateRawSync(f32(values)), method: 8, size },
      ]);
      expect(() => decodeTorchTensor(zip, 'lying.pt')).toThrow(TorchFormatError);
      expect(() => decodeTorchTensor(zip, 'lying.pt')).toThrow(/lying\.pt: .*archive\/data\/0/);
    }
  });

  it('a declared size beyond what the data can back (1 GiB from 30 bytes), or beyond maxBytes, is refused without inflating', () => {
    const tiny = deflateRawSync(f32([1, 2, 3, 4]));
    const huge = zipFiles([
      { name: 'archive/data.pkl', data: pickleOf(ptFile({ ...view, numel: 2 ** 28, size: [2 ** 28] }, { '0': f32([0]) })) },
      { name: 'archive/data/0', data: tiny, method: 8, size: 2 ** 30 },
    ]);
    expect(() => decodeTorchTensor(huge, 'ratio.pt')).toThrow(TorchFormatError);
    expect(() => decodeTorchTensor(huge, 'ratio.pt')).toThrow(/^ratio\.pt: /);
    const zeros = zipFiles([
      { name: 'archive/data.pkl', data: pickleOf(ptFile({ ...view, numel: 2 ** 20, size: [2 ** 20] }, { '0': f32([0]) })) },
      { name: 'archive/data/0', data: deflatedZeros(4), method: 8, size: 4 * MiB },
    ]);
    expect(() => decodeTorchTensor(zeros, 'limit.pt', { maxBytes: MiB })).toThrow(/limit\.pt: .*maxBytes/);
    expect(decodeTorchTensor(zeros, 'limit.pt').data.length).toBe(2 ** 20);
  });

  it('readZipEntry refuses a deflated entry declaring more than deflate allows (1032:1) or than maxBytes', () => {
    const zip = zipFiles([
      { name: 'ratio', data: deflateRawSync(f32([1, 2, 3, 4])), method: 8, size: 2 ** 30 },
      { name: 'zeros', data: deflatedZeros(1), method: 8, size: MiB },
    ]);
    const entries = readZipDirectory(zip, 'z.zip');
    expect(() => readZipEntry(zip, entries.get('ratio')!, 'z.zip', 2 ** 31)).toThrow(/z\.zip: expected zip entry ratio: at most 1032x/);
    expect(() => readZipEntry(zip, entries.get('zeros')!, 'z.zip', MiB - 1)).toThrow(/maxBytes/);
    expect(readZipEntry(zip, entries.get('zeros')!, 'z.zip', MiB).length).toBe(MiB);
  });

  it('a used storage of 64 MiB deflated to 66 KB (a zip bomb) is refused before it is inflated', () => {
    const bomb = zipFiles([
      { name: 'archive/data.pkl', data: pickleOf(ptFile({ ...view, numel: 2 ** 24, size: [2 ** 24] }, { '0': f32([0]) })) },
      { name: 'archive/data/0', data: deflatedZeros(64), method: 8, size: 64 * MiB },
    ]);
    expect(() => decodeTorchTensor(bomb, 'bomb.pt')).toThrow(TorchFormatError);
    expect(() => decodeTorchTensor(bomb, 'bomb.pt')).toThrow(/bomb\.pt: .*twice its size plus 16 MiB/);
  });

  it('an entry whose data runs past the end of the file, or a missing directory, is a TorchFormatError', () => {
    const good = ptFile(view, { '0': f32([1, 2, 3, 4]) });
    const cut = good.slice(0, good.length - 40);
    expect(() => decodeTorchTensor(cut, 'cut.pt')).toThrow(TorchFormatError);
    const over = zipFiles([
      { name: 'archive/data.pkl', data: pickleOf(good) },
      { name: 'archive/data/0', data: f32([1, 2, 3, 4]), size: 16 },
    ]);
    // the central directory says the stored storage holds 1 GiB: more than the file
    new DataView(over.buffer).setUint32(over.length - 22 - (46 + 'archive/data/0'.length) + 20, 2 ** 30, true);
    new DataView(over.buffer).setUint32(over.length - 22 - (46 + 'archive/data/0'.length) + 24, 2 ** 30, true);
    expect(() => decodeTorchTensor(over, 'over.pt')).toThrow(/over\.pt: /);
    expect(() => decodeTorchCheckpoint(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0]), 'stub.pt')).toThrow(TorchFormatError);
  });
});

/** The data.pkl bytes of a stored .pt built by ptFile (its first entry). */
function pickleOf(zip: Uint8Array): Uint8Array {
  const v = new DataView(zip.buffer, zip.byteOffset);
  const size = v.getUint32(18, true);
  const nameLen = v.getUint16(26, true);
  return zip.slice(30 + nameLen, 30 + nameLen + size);
}
